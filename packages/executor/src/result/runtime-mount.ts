import { fileURLToPath } from 'node:url';
import type { ReadOnlyMount } from '../sandbox/sandbox-command.ts';

/**
 * Where the language runners (packages/executor/runtime) appear inside the sandbox. The directory
 * must be bound read-only there for Python, JavaScript and TypeScript snippets to start.
 */
export const SANDBOX_RUNTIME_DIR = '/opt/runbox/runtime';

/** The runners' directory in this checkout, on the host. */
export const HOST_RUNTIME_DIR = fileURLToPath(new URL('../../runtime', import.meta.url));

/** The read-only bind that offers the runners at SANDBOX_RUNTIME_DIR. */
export function runtimeMount(hostRuntimeDir: string = HOST_RUNTIME_DIR): ReadOnlyMount {
  return { source: hostRuntimeDir, dest: SANDBOX_RUNTIME_DIR };
}
