import type { Readable } from 'node:stream';
import { LANGUAGE_RUNTIMES, type Language } from '../languages/index.ts';
import type { EndState } from '../run-state.ts';
import { endStateOf } from './end-state.ts';
import type { SandboxLimits } from './limits.ts';
import { SANDBOX_WORKSPACE } from './sandbox-command.ts';
import { baseSandboxEnv } from './sandbox-environment.ts';
import type { SandboxHost } from './sandbox-host.ts';
import type { OutputStream, SandboxRunReport } from './sandbox-run.ts';
import { writeNewWorkspaceFile } from './safe-fs.ts';
import type { Workspace } from './workspace-pool.ts';

export interface SnippetRunOptions {
  runId: string;
  language: Language;
  code: string;
  limits: SandboxLimits;
  stdin?: string | Buffer | Readable | undefined;
  onOutput?: ((stream: OutputStream, chunk: Buffer) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Runs before the workspace is emptied, e.g. to list or read what the run wrote. */
  inspectWorkspace?: ((workspaceDir: string) => Promise<void>) | undefined;
}

export interface SnippetRunReport extends SandboxRunReport {
  state: EndState;
  workspaceDir: string;
}

/**
 * The whole sandbox cycle for one snippet: a fresh workspace, the code written to a file in it
 * (never passed in argv), the run, and the workspace emptied again.
 */
export async function runSnippet(
  host: SandboxHost,
  options: SnippetRunOptions,
): Promise<SnippetRunReport> {
  const runtime = LANGUAGE_RUNTIMES[options.language];
  const workspace: Workspace = await host.workspaces.acquire(options.limits.workspaceBytes);
  try {
    await writeNewWorkspaceFile(workspace.dir, runtime.fileName, options.code, host.runAs);
    const report = await host.run({
      runId: options.runId,
      argv: runtime.runArgv(`${SANDBOX_WORKSPACE}/${runtime.fileName}`),
      limits: options.limits,
      workspaceDir: workspace.dir,
      env: baseSandboxEnv(),
      stdin: options.stdin,
      onOutput: options.onOutput,
      signal: options.signal,
    });
    await options.inspectWorkspace?.(workspace.dir);
    return { ...report, state: endStateOf(report), workspaceDir: workspace.dir };
  } finally {
    await workspace.release();
  }
}
