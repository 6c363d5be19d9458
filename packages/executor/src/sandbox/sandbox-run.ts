import { spawn, type StdioOptions } from 'node:child_process';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import type { CgroupDriver, CgroupUsage } from './cgroup.ts';
import type { SandboxLimits } from './limits.ts';
import { readPaced } from './paced-reader.ts';
import {
  buildSandboxInvocation,
  type HostTools,
  type ReadOnlyMount,
  SECCOMP_FD,
  STATUS_FD,
} from './sandbox-command.ts';
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
   * The host uid and gid it runs as, when not the runs' own (the syntax checkers have theirs).
   * Chosen by a sandbox source, never by a job. @default the host's sandbox user
   */
  runAs?: { uid: number; gid: number } | null | undefined;
}

export interface SandboxRunDeps {
  cgroups: CgroupDriver;
  tools: HostTools;
  mounts: readonly ReadOnlyMount[];
  runAs: { uid: number; gid: number } | null;
  seccompFile: string;
}

export interface SandboxRunReport extends SandboxOutcome {
  /** cgroup directories the run had; all removed by the time this returns. */
  cgroupPaths: readonly string[];
}

const EXIT_GRACE_MS = 2_000;
const KILL_RETRY_MS = 10;
const KILL_PERSIST_MS = 5_000;

/**
 * One process in the sandbox, from cgroup to cleanup. The whole cgroup is killed when the program
 * ends, times out, overflows its output or is cancelled, so nothing it started outlives the run.
 */
export async function runSandboxed(
  deps: SandboxRunDeps,
  options: SandboxRunOptions,
): Promise<SandboxRunReport> {
  const { limits } = options;
  const cgroup = await deps.cgroups.create(options.runId, limits);
  const seccomp = await open(deps.seccompFile, 'r').catch(async (error: unknown) => {
    await cgroup.remove();
    throw error;
  });
  const invocation = buildSandboxInvocation({
    argv: options.argv,
    limits,
    workspaceDir: options.workspaceDir,
    env: options.env,
    cgroupJoinFiles: cgroup.joinFiles,
    runAs: options.runAs ?? deps.runAs,
    mounts: deps.mounts,
    tools: deps.tools,
  });

  const flags = { timedOut: false, outputLimitExceeded: false, cancelled: false };
  const stdio: StdioOptions = ['pipe', 'pipe', 'pipe', 'ignore', 'ignore'];
  stdio[SECCOMP_FD] = seccomp.fd;
  stdio[STATUS_FD] = 'pipe';

  const startedAt = Date.now();
  // ProcessEnv, not the Record it is: Next's global types (this file is type-checked again by the
  // web app through `import type { AppRouter }`) make NODE_ENV required there, and the sandbox's
  // environment deliberately has none.
  const env = invocation.env as NodeJS.ProcessEnv;
  const child = spawn(invocation.file, invocation.args, { env, stdio });
  // Every listener of the child goes on before the first await: an exit or error emitted while
  // we wait for anything else would be lost, and the run would wait for it for ever.
  let childExited = false;
  let spawnError: Error | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      childExited = true;
      resolve();
    });
    child.once('error', (error) => {
      childExited = true;
      spawnError = error;
      resolve();
    });
  });
  const closed = new Promise<void>((resolve) => {
    child.once('close', () => resolve());
    child.once('error', () => resolve());
  });

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

  let stdoutBytes = 0;
  let stderrBytes = 0;
  // bwrap and the launcher report set-up failures on stderr; keep its end for the error message.
  let stderrTail = '';
  let outputBudget = limits.outputBytes;
  const deliver = (stream: OutputStream) => (chunk: Buffer) => {
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
      if (outputBudget > 0) options.onOutput?.(stream, chunk.subarray(0, outputBudget));
      outputBudget = 0;
      flags.outputLimitExceeded = true;
      void killRun().catch(() => {});
      return;
    }
    outputBudget -= chunk.length;
    if (options.onOutput?.(stream, chunk) === 'limit') {
      flags.outputLimitExceeded = true;
      void killRun().catch(() => {});
    }
  };
  // Paced: a program printing flat out must not hold the event loop (see paced-reader.ts).
  const readers = [
    child.stdout ? readPaced(child.stdout, deliver('stdout'), undefined, options.outputGate) : null,
    child.stderr ? readPaced(child.stderr, deliver('stderr'), undefined, options.outputGate) : null,
  ];

  let statusText = '';
  const statusStream = child.stdio[STATUS_FD] as Readable | null;
  statusStream?.setEncoding('utf8');
  statusStream?.on('data', (text: string) => {
    if (statusText.length < 4096) statusText += text;
  });

  feedStdin(child.stdin, options.stdin);

  const timer = setTimeout(() => {
    flags.timedOut = true;
    void killRun().catch(() => {});
  }, limits.wallTimeMs);
  const onAbort = (): void => {
    flags.cancelled = true;
    void killRun().catch(() => {});
  };
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  const usageTimer = options.onUsage
    ? setInterval(() => {
        cgroup.usage().then(options.onUsage, () => {});
      }, options.usageIntervalMs ?? 1_000)
    : null;

  // Only now, with every listener of the child's streams attached: a child that exits during an
  // await before that has its unread streams resumed by Node (flushStdio) and their data dropped,
  // which lost bwrap's status about once in a thousand runs under load.
  try {
    await seccomp.close();
    await exited;
    const finishedAt = Date.now();
    clearTimeout(timer);
    if (usageTimer) clearInterval(usageTimer);
    options.signal?.removeEventListener('abort', onAbort);
    // Whatever the program left running (daemons, stopped processes) goes with it; the sweep waits
    // until the cgroup is empty.
    await killRun();
    await cgroup.killAll();
    let graceTimer: NodeJS.Timeout | undefined;
    // The streams' end can come before their last paced slices are handed on: wait for both.
    const drained = await Promise.race([
      closed
        .then(() => Promise.all(readers.map((reader) => reader?.done ?? Promise.resolve())))
        .then(() => true),
      new Promise<false>((resolve) => {
        graceTimer = setTimeout(() => resolve(false), EXIT_GRACE_MS);
      }),
    ]);
    clearTimeout(graceTimer);
    if (!drained) {
      for (const reader of readers) reader?.stop();
      child.stdout?.destroy();
    }
    const [usage, oomKilled] = await Promise.all([cgroup.usage(), cgroup.oomKilled()]);
    const status = parseBwrapStatus(statusText);
    const killedByUs = flags.timedOut || flags.cancelled || flags.outputLimitExceeded;
    const setupFailed =
      spawnError !== null || (!killedByUs && !oomKilled && status.exitCode === null);
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
        ? ((spawnError as Error | null)?.message ??
          `the sandbox did not start (launcher exit ${child.exitCode ?? child.signalCode}): ${stderrTail.trim()}`)
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
    await killRun().catch(() => {});
    await cgroup.remove();
  }
}

function feedStdin(stdin: NodeJS.WritableStream | null, input: SandboxRunOptions['stdin']): void {
  if (!stdin) return;
  // A program that never reads stdin closes the pipe; that is its business, not an error of ours.
  stdin.on('error', () => {});
  if (input === undefined) {
    stdin.end();
  } else if (typeof input === 'string' || Buffer.isBuffer(input)) {
    stdin.end(input);
  } else {
    input.on('error', () => stdin.end());
    input.pipe(stdin);
  }
}
