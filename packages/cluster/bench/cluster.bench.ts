import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createSessionKernels,
  resolveLimits,
  type Executor,
  type KernelSnapshot,
  type RunEvent,
  type RunRequest,
  type SessionKernelsHooks,
} from '@runbox/executor';
import type { BenchHost } from '../../executor/bench/bench-host.ts';
import { MiB, ms, percentile, section, TimeoutError, within } from '../../executor/bench/stats.ts';
import { connectRedis } from '../src/redis-connection.ts';
import type { RedisDriver } from '../src/redis-driver.ts';
import { redisExecutor, withApiHost } from './api-side.ts';
import { killRedisServers, withRedis } from './bench-redis.ts';
import { killWorkerProcesses, withBenchWorkers, type BenchWorker } from './bench-workers.ts';
import { busySince, hostCpu, resident, type Resident } from './proc-status.ts';
import { lastStreamId, runsByWorker } from './runs-by-worker.ts';
import { trailingEventStore, type TrailingEventStore } from './trailing-event-store.ts';

// The figures of the issue "API and workers apart, on BullMQ and Redis", each against a baseline
// of the same run: redis mode against the embedded engine, two workers against one, a bare Node
// process for a worker's memory. Each section has a Redis, a sandbox host and workers of its own.

const LATENCY_RUNS = 200;
const LATENCY_WARMUP = 10;
const TARGET_OVERHEAD_P50_MS = 3;
/** A latency cycle that has not ended by then counts as stalled and is cancelled. */
const CYCLE_TIMEOUT_MS = 10_000;

const THROUGHPUT_RUNS = 200;
const THROUGHPUT_WARMUP = 20;
const THROUGHPUT_ROUNDS = 3;
const TARGET_SPEEDUP = 1.7;

const LINES = 1_000_000;
const TARGET_LINES_PER_SECOND = 300_000;

const CANCEL_RUNS = 40;
const TARGET_CANCEL_P95_MS = 250;

const CELL_ROUNDS = 100;
const CELL_WARMUP = 10;
const TARGET_CELL_P50_MS = 20;

const IDLE_MS = 2_000;
const TARGET_IDLE_RSS = 80 * MiB;

/** Short worker leases (renewed every second), so that a drain takes hold within ~2 s. */
const LEASE_MS = 3_000;

const echo: RunRequest = { kind: 'snippet', language: 'bash', code: 'echo hi' };
const trivial: RunRequest = { kind: 'snippet', language: 'bash', code: 'true' };

/** Ends the section going on (its clean-up runs) and skips the rest. */
const interruption = new AbortController();
/** A clean-up that hangs is cut short by then: the workers and Redis servers are killed. */
const CLEAN_UP_GRACE_MS = 90_000;
let interruptedWith: number | null = null;

function killAndExit(code: number): never {
  killWorkerProcesses();
  killRedisServers();
  process.exit(code);
}

function abandon(reason: string, code: number): void {
  if (interruption.signal.aborted) killAndExit(code);
  console.error(`cluster bench: ${reason}; cleaning up (signal again to stop at once)`);
  interruptedWith = code;
  interruption.abort(new Error(reason));
  setTimeout(() => killAndExit(code), CLEAN_UP_GRACE_MS).unref();
}
process.on('SIGINT', () => abandon('interrupted', 130));
process.on('SIGTERM', () => abandon('terminated', 143));

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}

function signedMs(value: number): string {
  return value < 0 ? `-${ms(-value)}` : `+${ms(value)}`;
}

function p50p95(samples: readonly number[]): string {
  return `p50 ${ms(percentile(samples, 50))}  p95 ${ms(percentile(samples, 95))}`;
}

function verdict(met: boolean): string {
  return met ? 'met' : 'MISSED';
}

function tally(counts: ReadonlyMap<string, number>): string {
  return [...counts].map(([key, count]) => `${key} ${count}`).join(', ') || 'none';
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

/** The end state of a run, waiting at most as long as `signal` lets it. */
async function endOf(executor: Executor, runId: string, signal: AbortSignal): Promise<string> {
  for await (const event of executor.events(runId, { signal })) {
    if (event.type === 'end') return event.result.state;
  }
  signal.throwIfAborted();
  return 'no end event';
}

// 1. ------------------------------------------------------------------------------------------

type Cycle = { firstLine: number; submitted: number } | { failure: string };

/**
 * Milliseconds from just before `submit` to the first output line at a subscriber of the engine;
 * waits for the run's end (at most CYCLE_TIMEOUT_MS, after which the run is cancelled).
 */
async function createToFirstLine(executor: Executor, outer: AbortSignal): Promise<Cycle> {
  const signal = AbortSignal.any([outer, AbortSignal.timeout(CYCLE_TIMEOUT_MS)]);
  const start = performance.now();
  let runId: string;
  try {
    runId = (await within(executor.submit(echo), CYCLE_TIMEOUT_MS, 'submit')).id;
  } catch (error) {
    if (error instanceof TimeoutError) return { failure: 'stalled in submit' };
    throw error;
  }
  const submitted = performance.now() - start;
  let firstLine = Number.NaN;
  let end: RunEvent | null = null;
  try {
    for await (const event of executor.events(runId, { signal })) {
      if (event.type === 'output' && Number.isNaN(firstLine)) firstLine = performance.now() - start;
      if (event.type === 'end') end = event;
    }
  } catch (error) {
    if (!signal.aborted) throw error;
  }
  outer.throwIfAborted();
  if (end === null) {
    try {
      executor.cancel(runId);
    } catch {
      // It ended meanwhile.
    }
    return { failure: 'stalled' };
  }
  if (Number.isNaN(firstLine)) {
    const { result } = end;
    return {
      failure: `ended ${result.state} without output${result.error ? ` (${result.error})` : ''}`,
    };
  }
  return { firstLine, submitted };
}

async function firstLineLatency(
  bench: BenchHost,
  redisUrl: string,
  start: (name: string) => Promise<BenchWorker>,
  signal: AbortSignal,
): Promise<void> {
  await start('latency-w1');
  const embedded = bench.executor({ concurrency: 1, syntaxCheck: false });
  const { executor: clustered, logged } = await redisExecutor(bench, {
    url: redisUrl,
    concurrency: 1,
    syntaxCheck: false,
    leaseMs: LEASE_MS,
  });
  const times = { embedded: [] as number[], redis: [] as number[] };
  const submits = { embedded: [] as number[], redis: [] as number[] };
  const failures = new Map<string, number>();
  const record = (path: keyof typeof times, cycle: Cycle): void => {
    if ('failure' in cycle) return bump(failures, `${path}: ${cycle.failure}`);
    times[path].push(cycle.firstLine);
    submits[path].push(cycle.submitted);
  };
  // Interleaved, so that both see the same load of this shared machine.
  for (let i = 0; i < LATENCY_WARMUP + LATENCY_RUNS; i++) {
    const a = await createToFirstLine(embedded, signal);
    const b = await createToFirstLine(clustered, signal);
    if (i < LATENCY_WARMUP) continue;
    record('embedded', a);
    record('redis', b);
  }
  const overhead50 = percentile(times.redis, 50) - percentile(times.embedded, 50);
  const overhead95 = percentile(times.redis, 95) - percentile(times.embedded, 95);
  console.log(
    `1. create to first line of bash \`echo hi\`, ${LATENCY_RUNS} runs each, one at a time, interleaved, no syntax check`,
  );
  console.log(`  embedded (local driver)            ${p50p95(times.embedded)}  (baseline)`);
  console.log(`  redis driver + 1 worker process    ${p50p95(times.redis)}`);
  console.log(
    `  overhead                           p50 ${signedMs(overhead50)}  p95 ${signedMs(overhead95)}  (${(percentile(times.redis, 50) / percentile(times.embedded, 50)).toFixed(2)}x at p50; target <= ${TARGET_OVERHEAD_P50_MS} ms at p50: ${verdict(overhead50 <= TARGET_OVERHEAD_P50_MS)})`,
  );
  console.log(
    `    of which submit                  embedded ${p50p95(submits.embedded)}; redis ${p50p95(submits.redis)}`,
  );
  console.log(`  cycles without a first line        ${tally(failures)}`);
  if (logged.length > 0) console.log(`  redis driver logged: ${logged.slice(0, 5).join(' | ')}`);
}

// 2. ------------------------------------------------------------------------------------------

/** Asks a worker to drain (or take jobs again) and waits until it says it does. */
async function setDraining(driver: RedisDriver, name: string, draining: boolean): Promise<void> {
  await driver.drain(name, draining);
  // The worker acts on it at its next lease renewal and says so in its lease at the one after.
  const deadline = Date.now() + 4 * LEASE_MS;
  while ((await driver.workers()).find((worker) => worker.name === name)?.draining !== draining) {
    if (Date.now() > deadline)
      throw new Error(`worker ${name} did not ${draining ? 'drain' : 'take jobs again'}`);
    await sleep(50);
  }
}

/** Submits `count` trivial runs at once; seconds until every one ended, and their end states. */
async function burst(
  executor: Executor,
  count: number,
  signal: AbortSignal,
): Promise<{ seconds: number; states: Map<string, number> }> {
  const start = performance.now();
  const runs = await Promise.all(Array.from({ length: count }, () => executor.submit(trivial)));
  const states = new Map<string, number>();
  for (const run of runs) bump(states, await endOf(executor, run.id, signal));
  return { seconds: (performance.now() - start) / 1000, states };
}

async function throughput(
  bench: BenchHost,
  redisUrl: string,
  start: (name: string) => Promise<BenchWorker>,
  signal: AbortSignal,
): Promise<void> {
  const w1 = await start('runs-w1');
  const w2 = await start('runs-w2');
  const { executor, driver, logged } = await redisExecutor(bench, {
    url: redisUrl,
    concurrency: 2,
    maxQueueLength: 1_000,
    syntaxCheck: false,
    leaseMs: LEASE_MS,
  });
  const probe = connectRedis(redisUrl, 'runbox-bench-probe');
  try {
    const warm = await burst(executor, THROUGHPUT_WARMUP, signal);
    const rates = { 1: [] as number[], 2: [] as number[] };
    const lines: string[] = [];
    // Alternated, so that both see the same load of this shared machine; medians, since one
    // round can land on a burst of someone else's work.
    for (let round = 1; round <= THROUGHPUT_ROUNDS; round++) {
      for (const workers of [1, 2] as const) {
        await setDraining(driver, w2.name, workers === 1);
        const from = await lastStreamId(probe);
        const cpu = {
          w1: w1.cpuSeconds(),
          w2: w2.cpuSeconds(),
          api: process.cpuUsage(),
          host: hostCpu(),
        };
        const { seconds, states } = await burst(executor, THROUGHPUT_RUNS, signal);
        const api = process.cpuUsage(cpu.api);
        const busy = busySince(cpu.host);
        const by = await runsByWorker(probe, from);
        rates[workers].push(THROUGHPUT_RUNS / seconds);
        lines.push(
          `  round ${round}, ${workers} worker${workers === 1 ? ' ' : 's'}  ${(THROUGHPUT_RUNS / seconds).toFixed(1)} runs/s (${seconds.toFixed(2)} s); started on ${tally(by)}; CPU s: w1 ${(w1.cpuSeconds() - cpu.w1).toFixed(2)}, w2 ${(w2.cpuSeconds() - cpu.w2).toFixed(2)}, API ${((api.user + api.system) / 1e6).toFixed(2)}; host CPU ${(busy * 100).toFixed(0)}% busy; ${tally(states)}`,
        );
      }
    }
    await setDraining(driver, w2.name, false);
    const one = percentile(rates[1], 50);
    const two = percentile(rates[2], 50);
    console.log(
      `2. trivial runs (bash \`true\`), ${THROUGHPUT_RUNS} submitted at once, until all ended; worker processes at concurrency 1 on ${availableParallelism()} cores, the second drained for the one-worker rounds`,
    );
    console.log(`  warm-up, 2 workers      ${THROUGHPUT_WARMUP} runs: ${tally(warm.states)}`);
    for (const line of lines) console.log(line);
    console.log(`  1 worker, median        ${one.toFixed(1)} runs/s  (baseline)`);
    console.log(
      `  2 workers, median       ${two.toFixed(1)} runs/s  (${(two / one).toFixed(2)}x; target >= ${TARGET_SPEEDUP}x: ${verdict(two / one >= TARGET_SPEEDUP)})`,
    );
    if (logged.length > 0) console.log(`  redis driver logged: ${logged.slice(0, 5).join(' | ')}`);
  } finally {
    probe.disconnect();
  }
}

// 3. ------------------------------------------------------------------------------------------

interface Streamed {
  seconds: number;
  /** Output events (a line split by the partial flush counts twice). */
  delivered: number;
  /** Whole lines, and those of them that are not the next number of `seq`. */
  lines: number;
  misnumbered: number;
  split: number;
  /** Events whose seq is not the one after the last. */
  seqGaps: number;
  endState: string;
  /** Peaks over the process's memory after a gc before the run (buffers: the store's lag). */
  peakRss: number;
  peakHeap: number;
  peakBuffers: number;
  /** Heap after the run and a gc, over the same. */
  heapAfter: number;
  workerPeakRss: number | null;
}

/** One run `seq LINES` to one subscriber of `executor.eventBatches`, with the process's memory. */
async function streamLines(
  executor: Executor,
  store: TrailingEventStore,
  worker: BenchWorker | null,
  signal: AbortSignal,
): Promise<Streamed> {
  gc();
  const before = process.memoryUsage();
  let peakRss = before.rss;
  let peakHeap = before.heapUsed;
  let peakBuffers = before.arrayBuffers;
  let workerPeakRss = worker ? worker.resident().rss : null;
  const sample = (): void => {
    const now = process.memoryUsage();
    peakRss = Math.max(peakRss, now.rss);
    peakHeap = Math.max(peakHeap, now.heapUsed);
    peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
  };
  // The worker is sampled on a timer; the API process also once per batch, since a busy event
  // loop delays timers.
  const sampler = setInterval(() => {
    sample();
    if (worker && workerPeakRss !== null)
      workerPeakRss = Math.max(workerPeakRss, worker.resident().rss);
  }, 50);
  const seen = {
    delivered: 0,
    lines: 0,
    misnumbered: 0,
    split: 0,
    seqGaps: 0,
    endState: '?',
  };
  let seconds: number;
  try {
    const t0 = performance.now();
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: `seq ${LINES}`,
      limits: { outputBytes: 64 * MiB, wallTimeMs: 120_000 },
    });
    let lastSeq = 0;
    let expected = 1;
    let line = '';
    for await (const batch of executor.eventBatches(run.id, { signal })) {
      for (const event of batch) {
        if (event.seq !== lastSeq + 1) seen.seqGaps++;
        lastSeq = event.seq;
        if (event.type === 'output' && event.stream === 'stdout') {
          seen.delivered++;
          line = event.continuation ? line + event.text : event.text;
          if (event.partial) {
            seen.split++;
            continue;
          }
          seen.lines++;
          const value = Number(line);
          if (value !== expected) seen.misnumbered++;
          expected = value + 1;
        }
        if (event.type === 'end') seen.endState = event.result.state;
      }
      store.taken(run.id, lastSeq);
      sample();
    }
    signal.throwIfAborted();
    seconds = (performance.now() - t0) / 1000;
    if (expected !== LINES + 1) seen.misnumbered += Math.abs(LINES + 1 - expected);
  } finally {
    clearInterval(sampler);
  }
  gc();
  return {
    seconds,
    ...seen,
    peakRss: peakRss - before.rss,
    peakHeap: peakHeap - before.heapUsed,
    peakBuffers: peakBuffers - before.arrayBuffers,
    heapAfter: process.memoryUsage().heapUsed - before.heapUsed,
    workerPeakRss,
  };
}

async function linesThroughTheStream(
  bench: BenchHost,
  redisUrl: string,
  start: (name: string) => Promise<BenchWorker>,
  signal: AbortSignal,
): Promise<void> {
  const worker = await start('lines-w1');
  const maxLines = LINES + 10;
  const embeddedStore = trailingEventStore();
  const embedded = bench.executor({
    concurrency: 1,
    syntaxCheck: false,
    output: { maxLines },
    hooks: embeddedStore.hooks,
  });
  const redisStore = trailingEventStore();
  const { executor: clustered, logged } = await redisExecutor(bench, {
    url: redisUrl,
    concurrency: 1,
    syntaxCheck: false,
    maxLines,
    leaseMs: LEASE_MS,
    hooks: redisStore.hooks,
  });
  const a = await streamLines(embedded, embeddedStore, null, signal);
  const b = await streamLines(clustered, redisStore, worker, signal);
  const rate = (streamed: Streamed): number => streamed.delivered / streamed.seconds;
  const describe = (streamed: Streamed, store: TrailingEventStore): string[] => [
    `    delivered              ${streamed.delivered} output events, ${streamed.lines} whole lines (${streamed.split} split by the partial flush), ${streamed.endState}`,
    `    order                  ${streamed.seqGaps} gaps or repeats in event seq; ${streamed.misnumbered} lines not the next number of seq`,
    `    behind the log         the subscriber was at most ${store.peak.events} events (${mib(store.peak.bytes)} serialized) behind; it read ${store.reads.events} events back in ${store.reads.calls} reads from the store`,
    `    API (bench) process    peak heap +${mib(streamed.peakHeap)} (the engine, relay, subscriber; garbage included); peak buffers +${mib(streamed.peakBuffers)} (the store's lag); peak RSS +${mib(streamed.peakRss)}; heap after the run and a gc ${streamed.heapAfter < 0 ? '-' : '+'}${mib(Math.abs(streamed.heapAfter))}`,
  ];
  console.log(
    `3. one run \`seq ${LINES}\` to one subscriber (executor.eventBatches); the engine's 20,000-event log, a store that keeps the subscriber's lag in buffers (the API's is on disk)`,
  );
  console.log(`  embedded (local driver)  ${rate(a).toFixed(0)} lines/s  (baseline)`);
  for (const line of describe(a, embeddedStore)) console.log(line);
  console.log(
    `  redis driver + 1 worker  ${rate(b).toFixed(0)} lines/s  (${(rate(b) / rate(a)).toFixed(2)}x embedded; target >= ${TARGET_LINES_PER_SECOND.toLocaleString('en')} lines/s: ${verdict(rate(b) >= TARGET_LINES_PER_SECOND)})`,
  );
  for (const line of describe(b, redisStore)) console.log(line);
  if (b.workerPeakRss !== null)
    console.log(`    worker process         peak RSS ${mib(b.workerPeakRss)}`);
  if (logged.length > 0) console.log(`  redis driver logged: ${logged.slice(0, 5).join(' | ')}`);
  const wrong = [a, b].filter((streamed) => streamed.seqGaps > 0 || streamed.misnumbered > 0);
  if (wrong.length > 0) throw new Error('events or lines came out of order or went missing');
}

// 4. ------------------------------------------------------------------------------------------

/**
 * A Node process doing nothing, IDLE_MS after its start: what any Node process costs. `typescript`
 * runs it as the worker runs (`node worker-main.ts`: Node strips the types, which loads a
 * WebAssembly module).
 */
async function idleNode(typescript: boolean): Promise<Resident> {
  const code = typescript
    ? 'const beat: number = 1_000; setInterval(() => {}, beat);'
    : 'setInterval(() => {}, 1_000);';
  const args = typescript ? ['--input-type=module-typescript', '-e', code] : ['-e', code];
  const child = spawn(process.execPath, args, { stdio: 'ignore' });
  const exited = once(child, 'exit');
  try {
    await sleep(IDLE_MS);
    if (child.pid === undefined || child.exitCode !== null)
      throw new Error(`the idle Node process (${args.join(' ')}) did not stay up`);
    return resident(child.pid);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

function parts(memory: Resident): string {
  return `${mib(memory.rss).padEnd(10)} (anon ${mib(memory.anon)}, file ${mib(memory.file)}, shmem ${mib(memory.shmem)})`;
}

async function idleWorker(
  bench: BenchHost,
  redisUrl: string,
  start: (name: string, concurrency: number) => Promise<BenchWorker>,
  signal: AbortSignal,
): Promise<void> {
  const bare = await idleNode(false);
  const stripping = await idleNode(true);
  // The production default: as many runs at once as the host has cores.
  const concurrency = availableParallelism();
  const worker = await start('idle-w1', concurrency);
  const { executor } = await redisExecutor(bench, {
    url: redisUrl,
    concurrency,
    syntaxCheck: false,
    leaseMs: LEASE_MS,
  });
  await sleep(IDLE_MS, undefined, { signal });
  const ready = worker.resident();
  const first = await executor.submit(trivial);
  const state = await endOf(executor, first.id, signal);
  if (state !== 'completed') throw new Error(`the worker's first run ended ${state}`);
  await sleep(IDLE_MS, undefined, { signal });
  const afterOne = worker.resident();
  const { states } = await burst(executor, 50, signal);
  await sleep(IDLE_MS, undefined, { signal });
  const afterMore = worker.resident();
  const times = (memory: Resident): string => `${(memory.rss / bare.rss).toFixed(2)}x bare`;
  console.log(
    `4. an idle worker process's resident memory (VmRSS), concurrency ${concurrency}, idle ${IDLE_MS / 1000} s each time`,
  );
  console.log(`  bare Node process            ${parts(bare)}  (baseline)`);
  console.log(`  Node stripping TypeScript    ${parts(stripping)}  ${times(stripping)}`);
  console.log(`  worker, ready, no run yet    ${parts(ready)}  ${times(ready)}`);
  console.log(
    `  worker, after its first run  ${parts(afterOne)}  ${times(afterOne)}; target <= ${mib(TARGET_IDLE_RSS)}: ${verdict(afterOne.rss <= TARGET_IDLE_RSS)}`,
  );
  console.log(
    `  worker, after 50 more runs   ${parts(afterMore)}  ${times(afterMore)}; ${tally(states)}`,
  );
}

// 5. ------------------------------------------------------------------------------------------

const sleeper: RunRequest = { kind: 'snippet', language: 'bash', code: 'echo up; sleep 60' };

/**
 * Milliseconds from `cancel` to the run's end event at a subscriber: by then the sandbox was
 * killed, its cgroup emptied and its workspace removed (the end event comes after all of that),
 * so it bounds "from the click to the sandbox killed" from above.
 */
async function cancelToEnd(executor: Executor, outer: AbortSignal): Promise<number | string> {
  const signal = AbortSignal.any([outer, AbortSignal.timeout(CYCLE_TIMEOUT_MS)]);
  const run = await within(executor.submit(sleeper), CYCLE_TIMEOUT_MS, 'submit');
  let cancelledAt = Number.NaN;
  let state = 'no end event';
  for await (const event of executor.events(run.id, { signal })) {
    if (event.type === 'output' && Number.isNaN(cancelledAt)) {
      cancelledAt = performance.now();
      executor.cancel(run.id);
    }
    if (event.type === 'end') state = event.result.state;
  }
  outer.throwIfAborted();
  if (state !== 'cancelled') return `ended ${state}`;
  return performance.now() - cancelledAt;
}

async function cancelLatency(
  bench: BenchHost,
  redisUrl: string,
  start: (name: string) => Promise<BenchWorker>,
  signal: AbortSignal,
): Promise<void> {
  await start('cancel-w1');
  const embedded = bench.executor({ concurrency: 1, syntaxCheck: false });
  const { executor: clustered } = await redisExecutor(bench, {
    url: redisUrl,
    concurrency: 1,
    syntaxCheck: false,
    leaseMs: LEASE_MS,
  });
  const times = { embedded: [] as number[], redis: [] as number[] };
  const failures = new Map<string, number>();
  for (let i = 0; i < CANCEL_RUNS; i++) {
    for (const [path, executor] of [
      ['embedded', embedded],
      ['redis', clustered],
    ] as const) {
      const outcome = await cancelToEnd(executor, signal);
      if (typeof outcome === 'string') bump(failures, `${path}: ${outcome}`);
      else times[path].push(outcome);
    }
  }
  const p95 = percentile(times.redis, 95);
  console.log(
    `5. cancel of a running \`sleep 60\` to its end event (sandbox killed and cleaned up), ${CANCEL_RUNS} runs each, interleaved`,
  );
  console.log(`  embedded (same process)            ${p50p95(times.embedded)}  (baseline)`);
  console.log(
    `  redis driver, worker process       ${p50p95(times.redis)}  (${(p95 / percentile(times.embedded, 95)).toFixed(2)}x at p95; target p95 <= ${TARGET_CANCEL_P95_MS} ms: ${verdict(p95 <= TARGET_CANCEL_P95_MS)})`,
  );
  console.log(`  runs not ended cancelled           ${tally(failures)}`);
}

// 6. ------------------------------------------------------------------------------------------

/**
 * Two Python sessions as an API's store would keep them (in memory here): one whose kernel runs
 * in this process, one whose kernel lives on a worker process.
 */
function benchSessions(): SessionKernelsHooks {
  const snapshots = new Map<string, KernelSnapshot>();
  return {
    spec: (id) => ({
      id,
      language: 'python',
      limits: { ...resolveLimits({}), wallTimeMs: 3_600_000 },
      interruptGraceMs: 2_000,
      snapshotMaxBytes: 1024 * 1024,
    }),
    snapshot: (id) => snapshots.get(id) ?? null,
    onSnapshot: (id, snapshot) => void snapshots.set(id, snapshot),
  };
}

/** Milliseconds from submit to the end of a cell `x += 1`, or why it did not complete. */
async function cellRoundTrip(
  executor: Executor,
  sessionId: string,
  signal: AbortSignal,
): Promise<number | string> {
  const start = performance.now();
  const run = await executor.submit({
    kind: 'cell',
    sessionId,
    language: 'python',
    code: 'x += 1',
  });
  const state = await endOf(
    executor,
    run.id,
    AbortSignal.any([signal, AbortSignal.timeout(CYCLE_TIMEOUT_MS)]),
  );
  return state === 'completed' ? performance.now() - start : state;
}

async function cellLatency(
  bench: BenchHost,
  redisUrl: string,
  start: (name: string) => Promise<BenchWorker>,
  signal: AbortSignal,
): Promise<void> {
  await start('cells-w1');
  const hooks = benchSessions();
  const kernels = createSessionKernels(bench.host, { hooks });
  const embedded = bench.executor({ concurrency: 2, syntaxCheck: false, sessions: kernels });
  const {
    executor: clustered,
    driver,
    logged,
  } = await redisExecutor(bench, {
    url: redisUrl,
    concurrency: 2,
    syntaxCheck: false,
    leaseMs: LEASE_MS,
    sessionHooks: hooks,
  });
  const here = randomUUID();
  const there = randomUUID();
  try {
    await kernels.start(here, { restore: false });
    await driver.sessions?.start(there, { restore: false });
    for (const [executor, id] of [
      [embedded, here],
      [clustered, there],
    ] as const)
      await executor.submit({ kind: 'cell', sessionId: id, language: 'python', code: 'x = 0' });
    const times = { embedded: [] as number[], redis: [] as number[] };
    const failures = new Map<string, number>();
    for (let i = 0; i < CELL_WARMUP + CELL_ROUNDS; i++) {
      const a = await cellRoundTrip(embedded, here, signal);
      const b = await cellRoundTrip(clustered, there, signal);
      if (i < CELL_WARMUP) continue;
      if (typeof a === 'string') bump(failures, `embedded: ${a}`);
      else times.embedded.push(a);
      if (typeof b === 'string') bump(failures, `redis: ${b}`);
      else times.redis.push(b);
    }
    const p50 = percentile(times.redis, 50);
    console.log(
      `6. a session cell \`x += 1\` (Python), submit to its end in the engine, ${CELL_ROUNDS} rounds each, interleaved`,
    );
    console.log(`  kernel in this process (embedded)  ${p50p95(times.embedded)}  (baseline)`);
    console.log(
      `  kernel on a worker process         ${p50p95(times.redis)}  (${(p50 / percentile(times.embedded, 50)).toFixed(2)}x at p50; target p50 <= ${TARGET_CELL_P50_MS} ms: ${verdict(p50 <= TARGET_CELL_P50_MS)})`,
    );
    console.log(`  cells not completed                ${tally(failures)}`);
    if (logged.length > 0) console.log(`  redis driver logged: ${logged.slice(0, 5).join(' | ')}`);
  } finally {
    await driver.sessions?.stop(there);
    await kernels.close();
  }
}

// ---------------------------------------------------------------------------------------------

/** A section's Redis, API-side sandbox host and worker processes, all gone when it ends. */
function inCluster(
  label: string,
  body: (
    bench: BenchHost,
    redisUrl: string,
    start: (name: string, concurrency?: number) => Promise<BenchWorker>,
  ) => Promise<void>,
): Promise<void> {
  return withRedis((redis) =>
    withApiHost(label, (bench) =>
      withBenchWorkers(redis.url, (workers) =>
        body(bench, redis.url, (name, concurrency = 1) =>
          workers.start(name, { concurrency, leaseMs: LEASE_MS }),
        ),
      ),
    ),
  );
}

/** A section of this file, skipped once the bench was interrupted. */
async function clusterSection(
  name: string,
  body: (signal: AbortSignal) => Promise<void>,
): Promise<void> {
  if (interruption.signal.aborted) return;
  await section(name, (signal) => body(AbortSignal.any([signal, interruption.signal])));
}

await clusterSection(`cluster: create to first line, redis mode against embedded`, (signal) =>
  inCluster('latency', (bench, url, start) => firstLineLatency(bench, url, start, signal)),
);
await clusterSection(`cluster: trivial runs per second, 2 workers against 1`, (signal) =>
  inCluster('runs', (bench, url, start) => throughput(bench, url, start, signal)),
);
await clusterSection(`cluster: ${LINES.toLocaleString('en')} lines through the stream`, (signal) =>
  inCluster('lines', (bench, url, start) => linesThroughTheStream(bench, url, start, signal)),
);
await clusterSection(`cluster: cancel across processes`, (signal) =>
  inCluster('cancel', (bench, url, start) => cancelLatency(bench, url, start, signal)),
);
await clusterSection(`cluster: a session cell, its kernel on a worker against embedded`, (signal) =>
  inCluster('cells', (bench, url, start) => cellLatency(bench, url, start, signal)),
);
await clusterSection(`cluster: an idle worker's memory`, (signal) =>
  inCluster('idle', (bench, url, start) => idleWorker(bench, url, start, signal)),
);
// After the clean-up, the signal's exit code (the interrupted section set 1).
if (interruptedWith !== null) process.exitCode = interruptedWith;
