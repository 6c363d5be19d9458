import { fileURLToPath } from 'node:url';
import type { ReadOnlyMount } from '../sandbox/sandbox-command.ts';

/**
 * Where the language runners (packages/executor/runtime) appear inside the sandbox, read-only.
 * Python, JavaScript and TypeScript snippets need them to start.
 */
export const SANDBOX_RUNTIME_DIR = '/opt/runbox/runtime';

/** The runners' directory in this checkout, on the host. */
export const HOST_RUNTIME_DIR = fileURLToPath(new URL('../../runtime', import.meta.url));

/**
 * Where the runners come from and where they go; the sandbox host copies them into its own files
 * (sandbox-files.ts), so the checkout's path never shows inside.
 */
export function runtimeMount(hostRuntimeDir: string = HOST_RUNTIME_DIR): ReadOnlyMount {
  return { source: hostRuntimeDir, dest: SANDBOX_RUNTIME_DIR };
}
