import type { SandboxLimits } from '../sandbox/limits.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { SandboxRunOptions, SandboxRunReport } from '../sandbox/sandbox-run.ts';

/** What a started program gets besides its workspace and limits, which the claim fixed. */
export type StartOptions = Omit<SandboxRunOptions, 'runId' | 'limits' | 'workspaceDir'>;

/** A sandbox claimed for exactly one run: a fresh workspace, and the way to start the program. */
export interface ClaimedSandbox {
  /** Host directory bound at /workspace; empty and made for this run alone. */
  readonly workspaceDir: string;
  start(options: StartOptions): Promise<SandboxRunReport>;
  /** Removes the workspace; never fails the run (the pool reports and detaches what it cannot). */
  release(): Promise<void>;
}

/**
 * Where started sandboxes come from. The cold source makes everything at claim time; a pool of
 * warm sandboxes or a session's sandbox are other sources behind the same run path.
 */
export interface SandboxSource {
  claim(runId: string, limits: SandboxLimits): Promise<ClaimedSandbox>;
}

/** A fresh workspace from the host's pool, and a sandbox started from nothing when asked. */
export function coldSandboxes(host: SandboxHost): SandboxSource {
  return {
    async claim(runId, limits) {
      const workspace = await host.workspaces.acquire(limits.workspaceBytes);
      return {
        workspaceDir: workspace.dir,
        start: (options) => host.run({ ...options, runId, limits, workspaceDir: workspace.dir }),
        release: () => workspace.release(),
      };
    },
  };
}
