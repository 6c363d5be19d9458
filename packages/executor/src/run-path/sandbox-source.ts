import { chown } from 'node:fs/promises';
import type { SandboxLimits } from '../sandbox/limits.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { SandboxRunOptions, SandboxRunReport } from '../sandbox/sandbox-run.ts';

/** What a started program gets besides its workspace, limits and user, which the claim fixed. */
export type StartOptions = Omit<SandboxRunOptions, 'runId' | 'limits' | 'workspaceDir' | 'runAs'>;

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

/**
 * A fresh workspace from the host's pool, and a sandbox started from nothing when asked. `runAs`:
 * a host user other than the runs' (the syntax checkers' own), who then owns the workspace too.
 */
export function coldSandboxes(
  host: SandboxHost,
  runAs: { uid: number; gid: number } | null = host.runAs,
): SandboxSource {
  return {
    async claim(runId, limits) {
      const workspace = await host.workspaces.acquire(limits.workspaceBytes);
      try {
        if (runAs && runAs !== host.runAs) await chown(workspace.dir, runAs.uid, runAs.gid);
      } catch (error) {
        await workspace.release();
        throw error;
      }
      return {
        workspaceDir: workspace.dir,
        start: (options) =>
          host.run({ ...options, runId, limits, workspaceDir: workspace.dir, runAs }),
        release: () => workspace.release(),
      };
    },
  };
}
