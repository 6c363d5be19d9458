import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { CgroupDriver, CgroupPriority, CgroupUsage } from './cgroup.ts';
import type { SandboxLimits } from './limits.ts';
import { readPaced } from './paced-reader.ts';
import { buildSandboxInvocation, type HostTools, type ReadOnlyMount } from './sandbox-command.ts';
import type { ForkedProcess, SandboxForker } from './sandbox-forker.ts';
import { parseBwrapStatus, signalFromExitCode, type SandboxOutcome } from './sandbox-outcome.ts';

export type OutputStream = 'stdout' | 'stderr';

export interface SandboxRunOptions {
  /** Names the run's cgroup: letters, digits, _ and - only. */
  runId: string;
  argv: readonly string[];
  limits: SandboxLimits;
  workspaceDir: string;
  env: Readonly<Record<string, string>>;
  /** Bytes for the program's stdin, or a stream piped into it; stdin is empty when absent. */
  stdin?: string | Buffer | Readable | undefined;
  /**
   * Raw output bytes as they arrive, up to the output limit; never more. Returning 'limit' says a
   * limit of the caller's (lines, say) is exceeded: the run ends as output_limit.
   */
  onOutput?: ((stream: OutputStream, chunk: Buffer) => void | 'limit') | undefined;
  /**
   * Asked after each slice of output: a promise holds the rest back until it settles (the
   * program blocks on its full pipe meanwhile). For a consumer that can fall behind.
   */
  outputGate?: (() => Promise<void> | null) | undefined;
  /** Called about once a second while the run is alive. */
  onUsage?: ((usage: CgroupUsage) => void) | undefined;
  usageIntervalMs?: number | undefined;
  /** Aborting it kills the run; the outcome says cancelled. */
  signal?: AbortSignal | undefined;
  /**
   * Called once the program is started, with the way to send it a signal (an interactive run's
   * SIGINT or SIGTERM): to the sandbox's program itself, the child of its pid 1.
   */
  onProgram?: ((program: ProgramControl) => void) | undefined;
  /**
   * The host uid and gid it runs as, when not the runs' own (the syntax checkers have theirs).
   * Chosen by a sandbox source, never by a job. @default the host's sandbox user
   */
  runAs?: { uid: number; gid: number } | null | undefined;
  /**
   * `workspaceDir` holds a project layer (project/project-layer.ts), mounted by the launcher and
   * seen at /workspace. Only a cold start can take one. @default false
   */
  projectLayer?: boolean | undefined;
  /**
   * A control descriptor into the sandbox at READY_FD, for the run's wrapper (a tty run's
   * resizes, runtime/tty_run.py), written through ProgramControl.control. @default false
   */
  controlFd?: boolean | undefined;
  /**
   * Read-only binds for this run alone, after the host's own (a run's dependency environment, an
   * install's egress socket). Sources should name nothing of the host: see ReadOnlyMount.
   */
  mounts?: readonly ReadOnlyMount[] | undefined;
}

/** The signals a caller may send a running program (interactive runs, session kernels). */
export type ProgramSignal = 'SIGINT' | 'SIGTERM';

export interface ProgramControl {
  /** Sends the signal to the program (tini's child); false when there is none any more. */
  signal(name: ProgramSignal): Promise<boolean>;
  /**
   * Writes one line to the run's control descriptor (`controlFd`): a tty run's resizes. False
   * when the run has none, or it is closed.
   */
  control(line: string): boolean;
}

export interface SandboxRunDeps {
  cgroups: CgroupDriver;
  tools: HostTools;
  mounts: readonly ReadOnlyMount[];
  runAs: { uid: number; gid: number } | null;
  seccompFile: string;
  /** Starts the sandbox processes (sandbox-forker.ts): the server forks nothing per run. */
  forker: SandboxForker;
}

export interface SandboxRunReport extends SandboxOutcome {
  /** cgroup directories the run had; all removed by the time this returns. */
  cgroupPaths: readonly string[];
}

const EXIT_GRACE_MS = 2_000;
const KILL_RETRY_MS = 10;
const KILL_PERSIST_MS = 5_000;

/** What is fixed when the sandbox process starts: its namespaces, rlimits, files and program. */
export type SandboxSpawnOptions = Pick<
  SandboxRunOptions,
  | 'runId'
  | 'argv'
  | 'limits'
  | 'workspaceDir'
  | 'env'
  | 'runAs'
  | 'projectLayer'
  | 'mounts'
  | 'controlFd'
> & {
  /**
   * `background`: started ahead of demand (a warm sandbox). Its cgroup has the lowest CPU weight
   * until `go` gives it its run's limits, so that starting it never slows a running run.
   * @default 'run'
   */
  priority?: CgroupPriority | undefined;
  /** A pipe at READY_FD for the program to say it is ready (see whenReady). @default false */
  readyFd?: boolean | undefined;
};

/** What a started sandbox is given when its run begins. */
export type SandboxGoOptions = Omit<
  SandboxRunOptions,
  'runId' | 'argv' | 'workspaceDir' | 'env' | 'runAs' | 'projectLayer' | 'mounts' | 'controlFd'
> & {
  /** Bytes written to stdin before the run's own (a warm runner's instructions). */
  preamble?: Buffer | undefined;
};

/** A sandbox process that has started and waits for `go`, or has already ended. */
export interface SpawnedSandbox {
  /** False once the process has ended (a warm sandbox that died before it was claimed). */
  alive(): boolean;
  /** Called once when the process ends, whether or not it was told to go. */
  onExit(listener: () => void): void;
  /**
   * With `readyFd`: true once the program has written to READY_FD, false if it ended first (or
   * has no such pipe).
   */
  whenReady(): Promise<boolean>;
  /** The cgroup's usage now (a warm sandbox's memory while it waits). */
  usage(): Promise<CgroupUsage>;
  /** Counts CPU time (and peak memory, where the kernel allows) from now on (a session's cell). */
  resetUsage(): Promise<void>;
  /**
   * With `readyFd`: the ready pipe, which stays open after its first byte for a program that
   * keeps talking on it (a session kernel's replies); null without one. Its data flows already:
   * a listener sees what comes after it is added.
   */
  control(): Readable | null;
  /** Sends a signal to the program inside (see ProgramControl). */
  signalProgram(name: ProgramSignal): Promise<boolean>;
  /**
   * The run: limits, timers, output, usage, then the end and the cleanup. Once per sandbox; the
   * cgroup is gone when it returns.
   */
  go(options: SandboxGoOptions): Promise<SandboxRunReport>;
  /** Kills and removes a sandbox that will never go. */
  discard(): Promise<void>;
}

/**
 * One process in the sandbox, from cgroup to cleanup. The whole cgroup is killed when the program
 * ends, times out, overflows its output or is cancelled, so nothing it started outlives the run.
 */
export async function runSandboxed(
  deps: SandboxRunDeps,
  options: SandboxRunOptions,
): Promise<SandboxRunReport> {
  const sandbox = await spawnSandbox(deps, options);
  return sandbox.go(options);
}

/**
 * Starts the sandbox process: cgroup made and joined before anything runs, rlimits, namespaces,
 * seccomp. Every listener of the child is attached before this returns; what the program writes
 * before `go` is kept for the run.
 */
export async function spawnSandbox(
  deps: SandboxRunDeps,
  options: SandboxSpawnOptions,
): Promise<SpawnedSandbox> {
  const spawnLimits = options.limits;
  const priority = options.priority ?? 'run';
  const cgroup = await deps.cgroups.create(options.runId, spawnLimits, priority);
  // A warm runner's ready pipe and a tty wrapper's control descriptor are the same descriptor.
  const readyFd = Boolean(options.readyFd || options.controlFd);
  const invocation = buildSandboxInvocation({
    argv: options.argv,
    limits: spawnLimits,
    workspaceDir: options.workspaceDir,
    env: options.env,
    cgroupJoinFiles: cgroup.joinFiles,
    runAs: options.runAs ?? deps.runAs,
    mounts: options.mounts?.length ? [...deps.mounts, ...options.mounts] : deps.mounts,
    tools: deps.tools,
    readyFd,
    projectLayer: options.projectLayer,
  });

  let startedAt = Date.now();
  let child: ForkedProcess;
  try {
    child = await deps.forker.spawn({
      file: invocation.file,
      args: invocation.args,
      env: invocation.env,
      seccompFile: deps.seccompFile,
      launch: invocation.launch,
      readyFd,
    });
  } catch (error) {
    await cgroup.remove();
    throw error;
  }
  // Its end is a promise (nothing lost to a late listener); its streams hold their data until
  // their readers below take it.
  let childExited = false;
  const exitListeners: (() => void)[] = [];
  const exited = child.exited.then(() => {
    childExited = true;
    for (const listener of exitListeners.splice(0)) listener();
  });
  const closed = child.closed;

  let killing: Promise<void> | null = null;
  /**
   * Kills the whole run, the bwrap monitor (our child) last so it reaps the sandbox, and keeps at
   * it until the child is gone: a kill that lands while the launcher is still joining its cgroup
   * finds nothing to kill, and must not count as done.
   */
  const killRun = (): Promise<void> => {
    killing ??= (async () => {
      const giveUpAt = Date.now() + KILL_PERSIST_MS;
      while (!childExited) {
        await cgroup.killAll(child.pid);
        if (childExited) break;
        if (Date.now() > giveUpAt) {
          child.kill('SIGKILL');
          break;
        }
        await sleep(KILL_RETRY_MS);
      }
    })();
    return killing;
  };

  const flags = { timedOut: false, outputLimitExceeded: false, cancelled: false };
  let stdoutBytes = 0;
  let stderrBytes = 0;
  // bwrap and the launcher report set-up failures on stderr; keep its end for the error message.
  let stderrTail = '';
  let outputBudget = spawnLimits.outputBytes;
  let onOutput: SandboxRunOptions['onOutput'];
  let gate: SandboxRunOptions['outputGate'];
  // Before go: the first slice of each stream is kept, and the readers wait (the gate below) until
  // the run begins, when it is handed on. Nothing is lost, and at most two slices are held.
  let early: { stream: OutputStream; chunk: Buffer }[] | null = [];
  let letGo = (): void => {};
  const going = new Promise<void>((resolve) => {
    letGo = resolve;
  });
  const deliver = (stream: OutputStream) => (chunk: Buffer) => {
    if (early) {
      early.push({ stream, chunk });
      return;
    }
    if (stream === 'stdout') {
      stdoutBytes += chunk.length;
    } else {
      stderrBytes += chunk.length;
      stderrTail = (stderrTail + chunk.toString('utf8', 0, Math.min(chunk.length, 1024))).slice(
        -1024,
      );
    }
    if (flags.outputLimitExceeded) return;
    if (chunk.length > outputBudget) {
      // Deliver exactly up to the limit, then end the run.
      if (outputBudget > 0) onOutput?.(stream, chunk.subarray(0, outputBudget));
      outputBudget = 0;
      flags.outputLimitExceeded = true;
      void killRun().catch(() => {});
      return;
    }
    outputBudget -= chunk.length;
    if (onOutput?.(stream, chunk) === 'limit') {
      flags.outputLimitExceeded = true;
      void killRun().catch(() => {});
    }
  };
  const outputGate = (): Promise<void> | null => (early ? going : (gate?.() ?? null));
  // Paced: a program printing flat out must not hold the event loop (see paced-reader.ts).
  const readers = [
    readPaced(child.stdout, deliver('stdout'), undefined, outputGate),
    readPaced(child.stderr, deliver('stderr'), undefined, outputGate),
  ];

  let statusText = '';
  child.status.setEncoding('utf8');
  child.status.on('data', (text: string) => {
    if (statusText.length < 4096) statusText += text;
  });
  const readyStream: Readable | null = options.readyFd ? child.ready : null;
  const ready = new Promise<boolean>((resolve) => {
    if (!readyStream) {
      resolve(false);
      return;
    }
    readyStream.once('data', () => resolve(true));
    readyStream.once('error', () => resolve(false));
    readyStream.once('close', () => resolve(false));
    exitListeners.push(() => resolve(false));
  });
  // Read to its end so that its close is seen; nothing else comes on it. (A control descriptor
  // only ever carries lines to the program: read so that its close is seen too.)
  child.ready?.resume();
  const controlStream = options.controlFd ? child.ready : null;

  const signalProgram = async (name: ProgramSignal): Promise<boolean> => {
    if (childExited) return false;
    const target = await programPid(child.pid, await cgroup.pids());
    if (target === null || childExited) return false;
    try {
      process.kill(target, name);
      return true;
    } catch {
      return false;
    }
  };

  let went = false;
  let ended: Promise<void> | null = null;
  const cleanUp = (): Promise<void> =>
    (ended ??= (async () => {
      await killRun().catch(() => {});
      await cgroup.remove();
    })());

  return {
    alive: () => !childExited,
    whenReady: () => ready,
    usage: () => cgroup.usage(),
    resetUsage: () => cgroup.resetUsage(),
    control: () => readyStream,
    signalProgram,
    onExit(listener) {
      if (childExited) listener();
      else exitListeners.push(listener);
    },
    async discard() {
      if (went) throw new Error('a sandbox that was told to go ends with its run');
      went = true;
      for (const reader of readers) reader.stop();
      child.stdin.destroy();
      await cleanUp();
    },
    async go(goOptions: SandboxGoOptions): Promise<SandboxRunReport> {
      if (went) throw new Error('a sandbox runs once');
      went = true;
      const { limits } = goOptions;
      let timer: NodeJS.Timeout | undefined;
      let usageTimer: NodeJS.Timeout | null = null;
      const onAbort = (): void => {
        flags.cancelled = true;
        void killRun().catch(() => {});
      };
      try {
        if (priority === 'background') {
          // A warm sandbox: its run's limits, and its usage counted from here.
          await cgroup.setLimits(limits);
          await cgroup.resetUsage();
          startedAt = Date.now();
        }
        onOutput = goOptions.onOutput;
        gate = goOptions.outputGate;
        outputBudget = limits.outputBytes;
        const kept = early ?? [];
        early = null;
        for (const { stream, chunk } of kept) deliver(stream)(chunk);
        letGo();

        feedStdin(child.stdin, goOptions.stdin, goOptions.preamble);
        goOptions.onProgram?.({
          signal: signalProgram,
          control: (line) => {
            if (!controlStream?.writable || childExited) return false;
            controlStream.write(`${line}\n`);
            return true;
          },
        });

        timer = setTimeout(() => {
          flags.timedOut = true;
          void killRun().catch(() => {});
        }, limits.wallTimeMs);
        if (goOptions.signal?.aborted) onAbort();
        else goOptions.signal?.addEventListener('abort', onAbort, { once: true });

        const onUsage = goOptions.onUsage;
        usageTimer = onUsage
          ? setInterval(() => {
              cgroup.usage().then(onUsage, () => {});
            }, goOptions.usageIntervalMs ?? 1_000)
          : null;

        await exited;
        const finishedAt = Date.now();
        clearTimeout(timer);
        if (usageTimer) clearInterval(usageTimer);
        goOptions.signal?.removeEventListener('abort', onAbort);
        // Whatever the program left running (daemons, stopped processes) goes with it; the sweep
        // waits until the cgroup is empty.
        await killRun();
        await cgroup.killAll();
        let graceTimer: NodeJS.Timeout | undefined;
        // The streams' end can come before their last paced slices are handed on: wait for both.
        const drained = await Promise.race([
          closed.then(() => Promise.all(readers.map((reader) => reader.done))).then(() => true),
          new Promise<false>((resolve) => {
            graceTimer = setTimeout(() => resolve(false), EXIT_GRACE_MS);
          }),
        ]);
        clearTimeout(graceTimer);
        if (!drained) {
          for (const reader of readers) reader.stop();
          child.stdout.destroy();
        }
        const [usage, oomKilled] = await Promise.all([cgroup.usage(), cgroup.oomKilled()]);
        const status = parseBwrapStatus(statusText);
        const killedByUs = flags.timedOut || flags.cancelled || flags.outputLimitExceeded;
        const setupFailed = !killedByUs && !oomKilled && status.exitCode === null;
        return {
          exitCode: status.exitCode,
          signal:
            status.exitCode === null
              ? killedByUs || oomKilled
                ? 'SIGKILL'
                : null
              : signalFromExitCode(status.exitCode),
          timedOut: flags.timedOut,
          memoryLimitExceeded: oomKilled,
          outputLimitExceeded: flags.outputLimitExceeded,
          cancelled: flags.cancelled,
          setupFailed,
          setupError: setupFailed
            ? `the sandbox did not start (launcher exit ${child.exitCode ?? child.signalCode}): ${stderrTail.trim()}`
            : null,
          startedAt,
          finishedAt,
          durationMs: finishedAt - startedAt,
          usage,
          stdoutBytes,
          stderrBytes,
          cgroupPaths: cgroup.paths,
        };
      } finally {
        clearTimeout(timer);
        if (usageTimer) clearInterval(usageTimer);
        goOptions.signal?.removeEventListener('abort', onAbort);
        await cleanUp();
      }
    },
  };
}

function feedStdin(
  stdin: NodeJS.WritableStream,
  input: SandboxRunOptions['stdin'],
  preamble: Buffer | undefined,
): void {
  // A program that never reads stdin closes the pipe; that is its business, not an error of ours
  // (ForkedProcess listens for its errors already).
  if (preamble) stdin.write(preamble);
  if (input === undefined) {
    stdin.end();
  } else if (typeof input === 'string' || Buffer.isBuffer(input)) {
    stdin.end(input);
  } else {
    input.on('error', () => stdin.end());
    input.pipe(stdin);
  }
}

/** The parent pid of a process, from /proc/<pid>/stat (the comm may hold spaces and parentheses). */
async function parentOf(pid: number): Promise<number | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const parent = Number(fields[1]);
    return Number.isInteger(parent) ? parent : null;
  } catch {
    return null;
  }
}

/**
 * The sandbox's program: the child of its pid 1 (tini), itself the child of the bwrap monitor we
 * started. Null when the program has ended.
 */
async function programPid(monitor: number, pids: readonly number[]): Promise<number | null> {
  const parents = new Map<number, number | null>();
  await Promise.all(pids.map(async (pid) => parents.set(pid, await parentOf(pid))));
  const init = pids.find((pid) => parents.get(pid) === monitor);
  if (init === undefined) return null;
  return pids.find((pid) => parents.get(pid) === init) ?? null;
}
