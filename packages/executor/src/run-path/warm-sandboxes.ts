import { randomBytes } from 'node:crypto';
import { LANGUAGES, LANGUAGE_RUNTIMES, type Language } from '../languages/index.ts';
import type { WarmRunner } from '../languages/warm-runner.ts';
import { DEFAULT_LIMITS, type SandboxLimits } from '../sandbox/limits.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { SandboxRunReport, SpawnedSandbox } from '../sandbox/sandbox-run.ts';
import type { Workspace } from '../sandbox/workspace-pool.ts';
import {
  coldSandboxes,
  type ClaimedSandbox,
  type SandboxSource,
  type StartOptions,
} from './sandbox-source.ts';

export interface WarmSandboxesSettings {
  /** Sandboxes kept ready per language; 0 or absent: that language always starts cold. */
  sizes: Partial<Record<Language, number>>;
  /** A warm sandbox not claimed by then is replaced. @default 300_000 */
  maxAgeMs?: number | undefined;
}

export interface WarmSandboxesOptions extends WarmSandboxesSettings {
  /**
   * The limits warm sandboxes are made with (the engine's defaults). What a started sandbox
   * cannot change (its /tmp size, its workspace size, its open-file limit) must be a run's own for
   * it to take one; memory, processes and CPU are set when it is claimed.
   * @default DEFAULT_LIMITS
   */
  limits?: SandboxLimits | undefined;
  /** A warm sandbox that could not be made or kept: for the log. */
  onError?: ((error: unknown) => void) | undefined;
}

export interface WarmPoolStats {
  language: Language;
  /** Ready ones wanted. */
  size: number;
  ready: number;
  starting: number;
  /** Runs that took a ready sandbox. */
  hits: number;
  /** Runs of this language that started cold: none ready, or limits a warm one cannot take. */
  misses: number;
  /** Warm sandboxes made so far (each serves one run, or ages out, or dies, and is replaced). */
  made: number;
  /** From spawn to ready, over the last refills; null before the first. */
  refillMsP50: number | null;
  refillMsLast: number | null;
  /** Memory the ready ones hold while they wait. */
  idleMemoryBytes: number;
}

export interface WarmSandboxes {
  /**
   * Where a snippet run of `language` gets its sandbox: a ready warm one when there is one and
   * the run's limits fit it, else a cold one. Either way the run's path is the same.
   */
  sourceFor(language: Language): SandboxSource;
  stats(): Promise<WarmPoolStats[]>;
  /** Discards every waiting sandbox and makes no more. */
  close(): Promise<void>;
}

interface Warm {
  readonly sandbox: SpawnedSandbox;
  readonly workspace: Workspace;
  timer: NodeJS.Timeout | null;
}

interface Pool {
  readonly language: Language;
  readonly runner: WarmRunner;
  readonly size: number;
  readonly ready: Warm[];
  starting: number;
  hits: number;
  misses: number;
  made: number;
  refillMs: number[];
}

const DEFAULT_MAX_AGE_MS = 300_000;
/** A sandbox not ready by then is discarded (its interpreter would not load). */
const READY_TIMEOUT_MS = 15_000;
const REFILL_SAMPLES = 50;
const MAX_BACKOFF_MS = 30_000;

/** The runner's arguments on stdin: a 4-byte big-endian length, then JSON (see the runners). */
function argumentsPreamble(args: readonly string[]): Buffer {
  const json = Buffer.from(JSON.stringify(args), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length, 0);
  return Buffer.concat([length, json]);
}

function sameEnv(
  a: Readonly<Record<string, string>>,
  b: Readonly<Record<string, string>>,
): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? null;
}

/**
 * Sandboxes started ahead of demand, per language: namespaces, cgroup, rlimits and seccomp in
 * force, the language's runner loaded and waiting on stdin for its run. Each serves exactly one
 * run and ends with it; one that waits past maxAgeMs, or dies, is replaced. Refills go one at a
 * time, their cgroups at the lowest CPU weight until claimed, so they never slow a running run.
 */
export function createWarmSandboxes(
  host: SandboxHost,
  options: WarmSandboxesOptions,
): WarmSandboxes {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const report = (error: unknown): void => options.onError?.(error);
  const env = baseSandboxEnv();
  const cold = coldSandboxes(host);
  const pools = new Map<Language, Pool>();
  for (const language of LANGUAGES) {
    const runner = LANGUAGE_RUNTIMES[language].warm;
    const size = options.sizes[language] ?? 0;
    if (!runner || size <= 0) continue;
    pools.set(language, {
      language,
      runner,
      size,
      ready: [],
      starting: 0,
      hits: 0,
      misses: 0,
      made: 0,
      refillMs: [],
    });
  }

  let closed = false;
  let filling: Promise<void> | null = null;
  let failures = 0;
  let wakeFromBackoff = (): void => {};
  /** Aged out or dead, being removed: waited for by close. */
  const retiring = new Set<Promise<void>>();

  const fits = (wanted: SandboxLimits): boolean =>
    wanted.tmpBytes === limits.tmpBytes &&
    wanted.workspaceBytes === limits.workspaceBytes &&
    wanted.openFiles === limits.openFiles;

  /** Takes a waiting sandbox out of its pool for good: claimed, aged out or dead. */
  function take(pool: Pool, warm: Warm): boolean {
    const index = pool.ready.indexOf(warm);
    if (index < 0) return false;
    pool.ready.splice(index, 1);
    if (warm.timer) clearTimeout(warm.timer);
    return true;
  }

  async function destroy(warm: Warm): Promise<void> {
    try {
      await warm.sandbox.discard();
    } finally {
      await warm.workspace.release();
    }
  }

  function neediest(): Pool | null {
    let best: Pool | null = null;
    let bestGap = 0;
    for (const pool of pools.values()) {
      const gap = pool.size - pool.ready.length - pool.starting;
      if (gap > bestGap) {
        best = pool;
        bestGap = gap;
      }
    }
    return best;
  }

  async function makeOne(pool: Pool): Promise<void> {
    const began = performance.now();
    const id = `warm-${pool.language}-${randomBytes(6).toString('hex')}`;
    const workspace = await host.workspaces.acquire(limits.workspaceBytes);
    let sandbox: SpawnedSandbox;
    try {
      sandbox = await host.spawn({
        runId: id,
        argv: pool.runner.argv,
        limits,
        workspaceDir: workspace.dir,
        env,
        priority: 'background',
        readyFd: true,
      });
    } catch (error) {
      await workspace.release();
      throw error;
    }
    const warm: Warm = { sandbox, workspace, timer: null };
    let timeout: NodeJS.Timeout | undefined;
    const ready = await Promise.race([
      sandbox.whenReady(),
      new Promise<false>((resolve) => {
        timeout = setTimeout(() => resolve(false), READY_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timeout);
    if (!ready || closed) {
      await destroy(warm);
      if (!ready) throw new Error(`a warm ${pool.language} sandbox did not get ready`);
      return;
    }
    pool.made++;
    pool.refillMs.push(performance.now() - began);
    if (pool.refillMs.length > REFILL_SAMPLES) pool.refillMs.shift();
    const retire = (): void => {
      if (take(pool, warm)) {
        const destroying = destroy(warm).catch(report);
        retiring.add(destroying);
        void destroying.finally(() => retiring.delete(destroying));
        kick();
      }
    };
    warm.timer = setTimeout(retire, maxAgeMs);
    warm.timer.unref();
    sandbox.onExit(retire);
    pool.ready.push(warm);
  }

  async function fill(): Promise<void> {
    for (let pool = neediest(); pool && !closed; pool = neediest()) {
      pool.starting++;
      try {
        await makeOne(pool);
        failures = 0;
      } catch (error) {
        report(error);
        failures++;
      } finally {
        pool.starting--;
      }
      // A host that cannot make them (out of memory, a broken runtime) is not asked in a loop.
      if (failures > 0 && !closed) {
        const backoff = Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 10));
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, backoff);
          timer.unref();
          wakeFromBackoff = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    }
  }

  function kick(): void {
    if (closed || filling) return;
    filling = fill().finally(() => {
      filling = null;
      // Something was taken while the last one was being made.
      if (!closed && neediest()) kick();
    });
  }

  function claimWarm(
    pool: Pool,
    warm: Warm,
    runId: string,
    runLimits: SandboxLimits,
  ): ClaimedSandbox {
    let started = false;
    return {
      workspaceDir: warm.workspace.dir,
      async start(startOptions: StartOptions): Promise<SandboxRunReport> {
        started = true;
        const args = pool.runner.argumentsOf(startOptions.argv);
        if (
          args === null ||
          !sameEnv(startOptions.env, env) ||
          startOptions.projectLayer ||
          (startOptions.mounts?.length ?? 0) > 0
        ) {
          // Not this runner's run after all (or one whose /workspace is a project layer, or that
          // has binds of its own, which a started sandbox cannot take): the warm one goes, the
          // run starts cold in the same workspace (its files are there already).
          await warm.sandbox.discard();
          return host.run({
            ...startOptions,
            runId,
            limits: runLimits,
            workspaceDir: warm.workspace.dir,
          });
        }
        return warm.sandbox.go({
          ...startOptions,
          limits: runLimits,
          preamble: argumentsPreamble(args),
        });
      },
      async release() {
        try {
          if (!started) await warm.sandbox.discard();
        } finally {
          await warm.workspace.release();
        }
      },
    };
  }

  // Ended with the host, while its workspaces and cgroups are still there.
  if (pools.size > 0) host.onClose(close);
  kick();

  return {
    sourceFor(language) {
      const pool = pools.get(language);
      if (!pool) return cold;
      return {
        async claim(runId, runLimits) {
          const warm = fits(runLimits)
            ? pool.ready.find((candidate) => candidate.sandbox.alive())
            : undefined;
          if (!warm || !take(pool, warm)) {
            pool.misses++;
            return cold.claim(runId, runLimits);
          }
          pool.hits++;
          kick();
          return claimWarm(pool, warm, runId, runLimits);
        },
      };
    },
    async stats() {
      return Promise.all(
        [...pools.values()].map(async (pool) => {
          const usages = await Promise.all(
            pool.ready.map((warm) => warm.sandbox.usage().catch(() => null)),
          );
          return {
            language: pool.language,
            size: pool.size,
            ready: pool.ready.length,
            starting: pool.starting,
            hits: pool.hits,
            misses: pool.misses,
            made: pool.made,
            refillMsP50: median(pool.refillMs),
            refillMsLast: pool.refillMs.at(-1) ?? null,
            idleMemoryBytes: usages.reduce(
              (sum, usage) => sum + (usage?.currentMemoryBytes ?? 0),
              0,
            ),
          };
        }),
      );
    },
    close,
  };

  async function close(): Promise<void> {
    closed = true;
    wakeFromBackoff();
    const waiting = [...pools.values()].flatMap((pool) =>
      [...pool.ready].filter((warm) => take(pool, warm)),
    );
    await Promise.allSettled(waiting.map((warm) => destroy(warm)));
    await filling;
    await Promise.allSettled([...retiring]);
  }
}
