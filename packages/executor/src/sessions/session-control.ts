import type { VariableView } from './kernel-messages.ts';
import type { SessionKernels } from './session-kernels.ts';

/** A session's kernel as the API sees it: running, and its memory (null when not known yet). */
export interface KernelStatus {
  memoryBytes: number | null;
}

/**
 * What the API asks of its sessions' kernels, wherever they run: in its own process (the embedded
 * default, `localSessionControl`) or on the session's worker (`packages/cluster`, with workers on
 * Redis). Errors are the engine's session errors, whichever side raised them.
 */
export interface SessionControl {
  /** Makes sure the session has a kernel (restored from its snapshot when `restore`). */
  start(sessionId: string, options: { restore: boolean }): Promise<void>;
  /** Ends its kernel on purpose (hibernation, close, restart); its running cell ends cancelled. */
  stop(sessionId: string): Promise<void>;
  /** Its running kernel, or null when none runs. */
  status(sessionId: string): Promise<KernelStatus | null>;
  /** The variables of its running kernel (idle), or null when none runs. */
  variables(sessionId: string): Promise<VariableView[] | null>;
  /** Binds a name to a JSON value, starting (and restoring) the kernel first when none runs. */
  setVariable(sessionId: string, name: string, value: unknown): Promise<void>;
  /** Lets go: ends this process's kernels (the embedded default) or its requests to workers. */
  close(): Promise<void>;
}

/** The kernels of this process, as the API asks them. */
export function localSessionControl(kernels: SessionKernels): SessionControl {
  return {
    async start(sessionId, options) {
      await kernels.start(sessionId, options);
    },
    stop: (sessionId) => kernels.stop(sessionId),
    async status(sessionId) {
      const kernel = kernels.kernel(sessionId);
      if (!kernel) return null;
      return { memoryBytes: (await kernel.usage())?.currentMemoryBytes ?? null };
    },
    variables: (sessionId) => kernels.variables(sessionId),
    setVariable: (sessionId, name, value) => kernels.setVariable(sessionId, name, value),
    close: () => kernels.close(),
  };
}
