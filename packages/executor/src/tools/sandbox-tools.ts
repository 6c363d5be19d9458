import { fileURLToPath } from 'node:url';
import type { ReadOnlyMount } from '../sandbox/sandbox-command.ts';

/**
 * Where the Node-based sandbox tools (TypeScript, ESLint, their wrappers and the default ESLint
 * config, from sandbox-tools/ at the repo root) appear inside the sandbox, read-only.
 */
export const SANDBOX_TOOLS_DIR = '/opt/runbox/tools';

/** Where scripts/install-sandbox-tools.sh installs them on the host: `<repo>/.runbox/sandbox-tools`. */
export const DEFAULT_SANDBOX_TOOLS_HOST_DIR = fileURLToPath(
  new URL('../../../../.runbox/sandbox-tools', import.meta.url),
);

/**
 * The bind that offers the installed tools to every run, for `SandboxHostConfig.extraMounts`.
 * Optional: a host without them still runs everything else, and the probe lists the tools that
 * need them as unavailable.
 */
export function sandboxToolsMount(hostDir: string = DEFAULT_SANDBOX_TOOLS_HOST_DIR): ReadOnlyMount {
  return { source: hostDir, dest: SANDBOX_TOOLS_DIR, optional: true };
}
