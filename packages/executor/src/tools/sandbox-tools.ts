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
 * Where the installed tools come from and where every run finds them; the sandbox host copies
 * them into its own files at start (sandbox-files.ts). Optional: a host without them still runs
 * everything else, and the probe lists the tools that need them as unavailable.
 */
export function sandboxToolsMount(hostDir: string = DEFAULT_SANDBOX_TOOLS_HOST_DIR): ReadOnlyMount {
  return { source: hostDir, dest: SANDBOX_TOOLS_DIR, optional: true };
}
