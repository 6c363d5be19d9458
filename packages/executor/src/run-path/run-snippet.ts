import type { Readable } from 'node:stream';
import type { Language } from '../languages/index.ts';
import type { EndState } from '../run-state.ts';
import type { SandboxLimits } from '../sandbox/limits.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { OutputStream, SandboxRunReport } from '../sandbox/sandbox-run.ts';
import { runInSandbox } from './run-in-sandbox.ts';
import type { SandboxSource } from './sandbox-source.ts';
import { snippetCommand } from './snippet-command.ts';

export interface SnippetRunOptions {
  runId: string;
  language: Language;
  code: string;
  limits: SandboxLimits;
  stdin?: string | Buffer | Readable | undefined;
  onOutput?: ((stream: OutputStream, chunk: Buffer) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Runs before the workspace is removed, e.g. to list or read what the run wrote. */
  inspectWorkspace?: ((workspaceDir: string) => Promise<void>) | undefined;
  /** Where the sandbox comes from (a warm pool's source). Default: a cold one. */
  source?: SandboxSource | undefined;
}

export interface SnippetRunReport extends SandboxRunReport {
  state: EndState;
  workspaceDir: string;
}

/** The program never started; `failure` says why (no host path in it). */
export class SnippetNotRunError extends Error {
  readonly code = 'SNIPPET_NOT_RUN';
  readonly state: EndState;
  constructor(state: EndState, failure: string | null) {
    super(failure ?? `the snippet did not run (${state})`);
    this.name = 'SnippetNotRunError';
    this.state = state;
  }
}

/**
 * A snippet through the run path, for callers that want the sandbox's report (the self-test, the
 * hostile tests). Throws SnippetNotRunError when the program never started.
 */
export async function runSnippet(
  host: SandboxHost,
  options: SnippetRunOptions,
): Promise<SnippetRunReport> {
  let workspaceDir = '';
  // The run path takes a throwing inspection as runbox's fault and goes on; this caller's own
  // inspection (a test's assertions, say) must reach it.
  let inspectError: { error: unknown } | null = null;
  const inspectWorkspace = options.inspectWorkspace;
  const outcome = await runInSandbox(host, {
    runId: options.runId,
    limits: options.limits,
    source: options.source,
    prepare: async (dir) => {
      workspaceDir = dir;
      return snippetCommand({ language: options.language, code: options.code, owner: host.runAs })(
        dir,
      );
    },
    stdin: options.stdin,
    onOutput: options.onOutput,
    signal: options.signal,
    inspect: inspectWorkspace
      ? (dir) =>
          inspectWorkspace(dir).catch((error: unknown) => {
            inspectError = { error };
            throw error;
          })
      : undefined,
  });
  if (inspectError) throw (inspectError as { error: unknown }).error;
  if (!outcome.report) throw new SnippetNotRunError(outcome.state, outcome.failure);
  return { ...outcome.report, state: outcome.state, workspaceDir };
}
