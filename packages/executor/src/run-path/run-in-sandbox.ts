import { layerUpperDir, makeProjectLayer, type ProjectLayer } from '../project/project-layer.ts';
import type { EndState } from '../run-state.ts';
import { endStateOf } from '../sandbox/end-state.ts';
import type { SandboxLimits } from '../sandbox/limits.ts';
import type { ReadOnlyMount } from '../sandbox/sandbox-command.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { SandboxRunReport } from '../sandbox/sandbox-run.ts';
import { hostPathPrefixes, scrubHostPaths } from './host-paths.ts';
import { coldSandboxes, type SandboxSource, type StartOptions } from './sandbox-source.ts';
import { isUserFault } from './user-fault.ts';

/** What to start in the sandbox, once the workspace holds the run's files. */
export interface PreparedCommand {
  argv: string[];
  env: Record<string, string>;
  /**
   * The run sees this project through a layer (project/project-layer.ts) instead of files put in
   * its workspace: the workspace then holds only what the run writes, and `inspect` reads that.
   */
  layer?: ProjectLayer | null | undefined;
  /** Read-only binds for this run alone (its dependency environment). */
  mounts?: readonly ReadOnlyMount[] | undefined;
  /** A control descriptor for the program's wrapper (a tty run's resizes). */
  controlFd?: boolean | undefined;
}

/** The phases of one run; an internal failure names the one it happened in. */
export type RunPhase = 'claim' | 'prepare' | 'start' | 'inspect';

/** One run through the one run path: claim → prepare → run → inspect → release. */
export interface SandboxJob<Inspected> extends Omit<StartOptions, 'argv' | 'env'> {
  /** Names the run's cgroup: letters, digits, _ and - only. */
  runId: string;
  limits: SandboxLimits;
  /**
   * Puts the run's files into its fresh, empty workspace and says what to start. An error that is
   * the user's fault (see user-fault.ts) ends the run `failed` with its message; any other, `error`.
   */
  prepare(workspaceDir: string): Promise<PreparedCommand>;
  /**
   * Reads what the program left (artifacts, the result value) before the workspace goes: in the
   * workspace, or, for a layered project, in its upper layer (the files the run wrote). It must
   * report what it cannot read rather than throw; a throw is taken as runbox's own fault and the
   * run keeps its end state, with `inspectFailed` set.
   */
  inspect?: ((workspaceDir: string, report: SandboxRunReport) => Promise<Inspected>) | undefined;
  /** Where the sandbox comes from. Default: a cold one from the host. */
  source?: SandboxSource | undefined;
  /** A failure of runbox's own, with everything the log needs; the run says less (see message). */
  onInternalError?: ((error: unknown, phase: RunPhase) => void) | undefined;
}

export interface SandboxJobOutcome<Inspected> {
  state: EndState;
  /** The sandbox's report; null when the program never started (refused, cancelled, error). */
  report: SandboxRunReport | null;
  inspected: Inspected | undefined;
  /** Why a run ended `failed` before it started, or `error`: words for the user, no host path. */
  failure: string | null;
  /** inspect threw: what the run left may be incomplete. */
  inspectFailed: boolean;
}

function internalMessage(error: unknown, phase: RunPhase, prefixes: readonly string[]): string {
  const detail = scrubHostPaths(error instanceof Error ? error.message : String(error), prefixes);
  const doing = {
    claim: 'make a workspace for',
    prepare: 'prepare',
    start: 'start',
    inspect: 'inspect the files of',
  }[phase];
  return `runbox could not ${doing} this run (its own fault, not the program's): ${detail}`;
}

/**
 * The one way anything runs in the sandbox (runs of the engine, syntax checks, the self-test,
 * tool probes, the CLI). The workspace is released, whatever happened, before this returns: by
 * the time a caller reports the end, nothing of the run is left.
 */
export async function runInSandbox<Inspected = undefined>(
  host: SandboxHost,
  job: SandboxJob<Inspected>,
): Promise<SandboxJobOutcome<Inspected>> {
  const prefixes = hostPathPrefixes(host.stateDir);
  const notStarted = (state: EndState, failure: string | null): SandboxJobOutcome<Inspected> => ({
    state,
    report: null,
    inspected: undefined,
    failure,
    inspectFailed: false,
  });
  const internal = (error: unknown, phase: RunPhase): SandboxJobOutcome<Inspected> => {
    job.onInternalError?.(error, phase);
    return job.signal?.aborted
      ? notStarted('cancelled', null)
      : notStarted('error', internalMessage(error, phase, prefixes));
  };

  if (job.signal?.aborted) return notStarted('cancelled', null);
  const source = job.source ?? coldSandboxes(host);
  let sandbox;
  try {
    sandbox = await source.claim(job.runId, job.limits);
  } catch (error) {
    // A session's kernel that could not start for the request's sake (its environment refused,
    // say) fails the cell with the reason, as a prepare would.
    if (isUserFault(error)) return notStarted('failed', scrubHostPaths(error.message, prefixes));
    return internal(error, 'claim');
  }
  try {
    let command: PreparedCommand;
    try {
      command = await job.prepare(sandbox.workspaceDir);
      if (command.layer)
        await makeProjectLayer(sandbox.workspaceDir, command.layer.projectDir, host.runAs);
    } catch (error) {
      if (isUserFault(error)) return notStarted('failed', scrubHostPaths(error.message, prefixes));
      return internal(error, 'prepare');
    }
    if (job.signal?.aborted) return notStarted('cancelled', null);

    let report: SandboxRunReport;
    try {
      report = await sandbox.start({
        argv: command.argv,
        env: command.env,
        stdin: job.stdin,
        onOutput: job.onOutput,
        outputGate: job.outputGate,
        onUsage: job.onUsage,
        usageIntervalMs: job.usageIntervalMs,
        signal: job.signal,
        onProgram: job.onProgram,
        projectLayer: Boolean(command.layer),
        mounts: command.mounts,
        controlFd: command.controlFd,
      });
    } catch (error) {
      return internal(error, 'start');
    }
    if (report.setupError !== null) {
      job.onInternalError?.(new Error(report.setupError), 'start');
      report = { ...report, setupError: scrubHostPaths(report.setupError, prefixes) };
    }

    let inspected: Inspected | undefined;
    let inspectFailed = false;
    if (job.inspect) {
      try {
        const filesDir = command.layer ? layerUpperDir(sandbox.workspaceDir) : sandbox.workspaceDir;
        inspected = await job.inspect(filesDir, report);
      } catch (error) {
        job.onInternalError?.(error, 'inspect');
        inspectFailed = true;
      }
    }
    return {
      state: endStateOf(report),
      report,
      inspected,
      failure: report.setupFailed ? report.setupError : null,
      inspectFailed,
    };
  } finally {
    await sandbox.release();
  }
}
