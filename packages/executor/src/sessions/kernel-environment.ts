import { EnvironmentRefusedError } from '../environments/environment-errors.ts';
import { withEnvironment, type EnvironmentStore } from '../environments/environment-store.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import type { KernelEnvironment } from './session-kernels.ts';

/**
 * A session's named environment as its kernel gets it: from the store's cache, or installed now
 * (the install's own words go to `onOutput`: a session has no run to show them in). Where the
 * kernel runs (the API's process, or the session's worker) passes its own store.
 */
export async function kernelEnvironment(
  store: EnvironmentStore | null,
  sessionId: string,
  name: string,
  onOutput: (chunk: Buffer) => void,
): Promise<KernelEnvironment> {
  if (!store) throw new EnvironmentRefusedError('this server installs no environments');
  const ready = await store.ensure(
    { environment: name },
    { runId: `session-${sessionId}`, onOutput: (_stream, chunk) => onOutput(chunk) },
  );
  return {
    mounts: ready.mounts,
    env: withEnvironment(baseSandboxEnv(), ready),
    release: ready.release,
  };
}
