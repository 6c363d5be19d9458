import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createExecutor, type Executor, type RunEvent, type RunRecord } from '@runbox/executor';
import {
  httpClient,
  newCounter,
  socketClient,
  type ApiClient,
  type SocketClient,
} from './support/clients.ts';
import { follow } from './support/follow.ts';
import { rawWsLoopback } from './support/loopback.ts';
import { startBenchServer } from './support/server.ts';
import { MiB, ms, percentile, ratio, section, TimeoutError, within } from './support/stats.ts';

const LATENCY_RUNS = 200;
const WARMUP_RUNS = 10;
const TARGET_P50_MS = 25;
/** A cycle of part 1 that has not ended by then is counted as stalled, not waited for. */
const CYCLE_TIMEOUT_MS = 5_000;
/** ExecutorConfig.output.maxLines default; boot.ts passes no `output` and no variable sets it. */
const WANTED_LINES = 300_000;
const STREAM_RUNS = 10;
const STREAM_SOCKETS = 10;
/** Subscriptions per (socket, run) pair: 10 sockets x 10 runs x 2 = 200. */
const SUBS_PER_PAIR = 2;
const STREAM_LINES = 30;
/** The whole bench ends by then, whatever hangs (finishing takes at most ~35 s more). */
const WATCHDOG_MS = 140_000;

const echo = { kind: 'snippet', language: 'bash', code: 'echo hi' } as const;

type LoopDelay = ReturnType<typeof monitorEventLoopDelay>;

const server = await startBenchServer({
  RUNBOX_WARM_SANDBOXES: process.env.RUNBOX_WARM_SANDBOXES ?? 'python=2,javascript=1,typescript=1',
  RUNBOX_CONCURRENCY: '16',
  RUNBOX_MAX_OUTPUT_LINES: String(WANTED_LINES + 10),
  RUNBOX_MAX_QUEUE: '1000',
  RUNBOX_RUNS_PER_HOUR: '1000000',
  RUNBOX_CONCURRENT_RUNS_PER_OWNER: '10000',
  RUNBOX_WS_MAX_SUBSCRIPTIONS: '64',
  RUNBOX_WS_MAX_SOCKETS_PER_CLIENT: '64',
  RUNBOX_SHUTDOWN_DEADLINE_MS: '5000',
});
const { runbox, config, token } = server;
const sockets: SocketClient[] = [];
const engines: Executor[] = [];
const engineArtifacts = await mkdtemp(join(tmpdir(), 'runbox-bench-engine-artifacts-'));

let finishing: Promise<void> | null = null;
/** Closes the clients, stops the engines and the server, removes every temporary thing. Bounded. */
function finish(): Promise<void> {
  finishing ??= (async () => {
    await within(
      Promise.allSettled(sockets.map((client) => client.close())),
      5_000,
      'closing the sockets',
    ).catch(() => {});
    await within(
      Promise.allSettled(engines.map((executor) => executor.shutdown({ deadlineMs: 1_000 }))),
      5_000,
      'engine shutdown',
    ).catch(() => {});
    const stopped = await server.stop(20_000);
    await rm(engineArtifacts, { recursive: true, force: true });
    if (!stopped)
      console.log('  runbox.stop() did not finish in 20 s (a stalled run holds a slot)');
    if (server.warnings.length > 0) {
      const shown = server.warnings.slice(0, 5).join('\n    ');
      console.log(`  server warnings (${server.warnings.length}):\n    ${shown}`);
    }
  })();
  return finishing;
}

function abandon(reason: string): void {
  console.error(`api bench: ${reason}; cleaning up`);
  setTimeout(() => process.exit(1), 40_000).unref();
  void finish().finally(() => process.exit(1));
}
setTimeout(() => abandon(`overran ${WATCHDOG_MS / 1000} s`), WATCHDOG_MS).unref();
process.once('SIGINT', () => abandon('interrupted'));
process.once('SIGTERM', () => abandon('terminated'));

function openSocket(counter = newCounter()): SocketClient {
  const client = socketClient(server.wsUrl, token, counter);
  sockets.push(client);
  return client;
}

/** Closes the section's sockets (bounded) and forgets them. */
async function closeSockets(clients: readonly SocketClient[]): Promise<void> {
  for (const client of clients) {
    const index = sockets.indexOf(client);
    if (index >= 0) sockets.splice(index, 1);
  }
  await within(
    Promise.allSettled(clients.map((client) => client.close())),
    5_000,
    'closing the sockets',
  ).catch(() => {});
}

/** Cancels a section's runs that are still going (ended ones are left as they are). */
function cancelRuns(ids: readonly string[]): void {
  for (const id of ids) {
    try {
      runbox.services.executor.cancel(id);
    } catch {
      // Gone from the engine already: nothing runs.
    }
  }
}

/** Resolves once the socket answers a call (connection and connection parameters done). */
async function connected(client: SocketClient): Promise<void> {
  await within(client.api.health.query(), 10_000, 'health over the WebSocket');
}

function loopDelay(): LoopDelay {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  return histogram;
}

function delays(histogram: LoopDelay): string {
  histogram.disable();
  return `event-loop delay p99 ${ms(histogram.percentile(99) / 1e6)}, max ${ms(histogram.max / 1e6)}`;
}

/** A cycle of part 1: the time to the first line, or why there was none. */
type Cycle = { firstLine: number; created: number } | { failure: string };

function noOutput(end: RunEvent | null): string {
  if (end?.type !== 'end') return 'stalled';
  const { result } = end;
  return `ended ${result.state} without output${result.error ? ` (${result.error})` : ''}`;
}

/**
 * Milliseconds from just before `runs.create` to the first output line at the WebSocket
 * subscriber; waits for the run's end (at most CYCLE_TIMEOUT_MS for each).
 */
async function createToFirstLine(http: ApiClient, live: ApiClient): Promise<Cycle> {
  const signal = AbortSignal.timeout(CYCLE_TIMEOUT_MS);
  const start = performance.now();
  let runId: string;
  try {
    runId = (await http.runs.create.mutate(echo, { signal })).id;
  } catch (error) {
    if (signal.aborted) return { failure: 'stalled in create' };
    throw error;
  }
  const created = performance.now() - start;
  let firstLine = Number.NaN;
  let end: RunEvent | null = null;
  try {
    await follow(
      live,
      runId,
      (event) => {
        if (event.type === 'output' && Number.isNaN(firstLine))
          firstLine = performance.now() - start;
        if (event.type === 'end') end = event;
      },
      CYCLE_TIMEOUT_MS,
    ).done;
  } catch {
    return { failure: 'stalled' };
  }
  return Number.isNaN(firstLine) ? { failure: noOutput(end) } : { firstLine, created };
}

/** The same cycle with the engine alone: submit, then its events; no HTTP, no store, no socket. */
async function engineFirstLine(executor: Executor): Promise<Cycle> {
  const signal = AbortSignal.timeout(CYCLE_TIMEOUT_MS);
  const start = performance.now();
  let submitted: RunRecord;
  try {
    submitted = await within(executor.submit(echo), CYCLE_TIMEOUT_MS, 'submit');
  } catch (error) {
    if (error instanceof TimeoutError) return { failure: 'stalled in submit' };
    throw error;
  }
  const created = performance.now() - start;
  let firstLine = Number.NaN;
  let end: RunEvent | null = null;
  for await (const event of executor.events(submitted.id, { signal })) {
    if (event.type === 'output' && Number.isNaN(firstLine)) firstLine = performance.now() - start;
    if (event.type === 'end') end = event;
  }
  return Number.isNaN(firstLine) ? { failure: noOutput(end) } : { firstLine, created };
}

/** 1. Create-to-first-line latency, interleaved with the engine alone so all see the same load. */
async function firstLineLatency(http: ApiClient): Promise<void> {
  // The baseline engine is configured as boot.ts configures the server's (same sandbox host);
  // a second one skips the in-sandbox syntax check that `submit` (so `runs.create`) runs first.
  const engineOptions = {
    host: runbox.services.host,
    concurrency: config.concurrency,
    maxQueueLength: config.maxQueueLength,
    limits: { maximums: config.maximums },
    artifactsRoot: engineArtifacts,
  };
  const engine = createExecutor(engineOptions);
  const unchecked = createExecutor({ ...engineOptions, syntaxCheck: false });
  engines.push(engine, unchecked);
  const socket = openSocket();
  try {
    await connected(socket);
    const live = socket.api;
    const times = { unchecked: [] as number[], engine: [] as number[], api: [] as number[] };
    const createTimes: number[] = [];
    const failures = new Map<string, number>();
    const record = (path: keyof typeof times, cycle: Cycle): void => {
      if ('failure' in cycle) {
        const key = `${path}: ${cycle.failure}`;
        failures.set(key, (failures.get(key) ?? 0) + 1);
        return;
      }
      times[path].push(cycle.firstLine);
      if (path === 'api') createTimes.push(cycle.created);
    };
    for (let i = 0; i < WARMUP_RUNS + LATENCY_RUNS; i++) {
      const a = await engineFirstLine(unchecked);
      const b = await engineFirstLine(engine);
      const c = await createToFirstLine(http, live);
      if (i < WARMUP_RUNS) continue;
      record('unchecked', a);
      record('engine', b);
      record('api', c);
    }
    const p = (samples: number[]): string =>
      `p50 ${ms(percentile(samples, 50))}  p95 ${ms(percentile(samples, 95))}`;
    const engineP50 = percentile(times.engine, 50);
    const apiP50 = percentile(times.api, 50);
    console.log(
      `1. create to first line of bash \`echo hi\`, ${LATENCY_RUNS} runs each, one at a time, interleaved`,
    );
    console.log(`  engine, no syntax check          ${p(times.unchecked)}`);
    console.log(`  engine as the server has it      ${p(times.engine)}  (baseline)`);
    console.log(`  HTTP create + WS onOutput        ${p(times.api)}`);
    console.log(`    of which create's round trip   ${p(createTimes)}`);
    console.log(
      `  ratio to the baseline            p50 ${ratio(apiP50, engineP50)}  p95 ${ratio(percentile(times.api, 95), percentile(times.engine, 95))}  (+${ms(apiP50 - engineP50)} at p50)`,
    );
    console.log(
      `  p50 target <= ${TARGET_P50_MS} ms: ${apiP50 <= TARGET_P50_MS ? 'met' : 'MISSED'}`,
    );
    for (const [what, count] of failures) {
      console.log(
        `  LEFT OUT: ${count} x ${what} (no first line; "stalled": no end in ${CYCLE_TIMEOUT_MS} ms)`,
      );
    }
  } finally {
    await closeSockets([socket]);
    await within(
      Promise.all([engine, unchecked].map((executor) => executor.shutdown({ deadlineMs: 1_000 }))),
      5_000,
      'engine shutdown',
    ).then(
      () => engines.splice(0),
      () => console.log('  the baseline engines did not shut down (a stalled run holds a slot)'),
    );
  }
}

/** 2. Output throughput to one WebSocket client, against a bare ws loopback. */
async function throughput(http: ApiClient): Promise<void> {
  const lines = WANTED_LINES;
  const counter = newCounter();
  const wire = openSocket(counter);
  const runIds: string[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    await connected(wire);
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 20);
    const loop = loopDelay();
    const start = performance.now();
    const run = await within(
      http.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: `seq ${lines}`,
        limits: { outputBytes: 64 * MiB, wallTimeMs: 60_000 },
      }),
      10_000,
      'runs.create',
    );
    runIds.push(run.id);
    let pieces = 0;
    let split = 0;
    let first = Number.NaN;
    let last = Number.NaN;
    let bytesAtFirst = 0;
    let bytesAtLast = 0;
    let messagesAtFirst = 0;
    let messagesAtLast = 0;
    let endState = '?';
    let truncated = '';
    let sample: RunEvent | null = null;
    try {
      await follow(
        wire.api,
        run.id,
        (event) => {
          if (event.type === 'output') {
            pieces++;
            if (event.partial) split++;
            last = performance.now();
            bytesAtLast = counter.bytes;
            messagesAtLast = counter.messages;
            if (pieces === 1) {
              first = last;
              bytesAtFirst = bytesAtLast;
              messagesAtFirst = messagesAtLast;
              sample = event;
            }
          }
          if (event.type === 'truncated')
            truncated = `, truncated (${event.reason}, cap ${event.limit})`;
          if (event.type === 'end') endState = event.result.state;
        },
        60_000,
      ).done;
    } finally {
      clearInterval(sampler);
    }
    const loopDelays = delays(loop);
    // The same run again, from seq 0, to a subscriber that comes after its end (a reload).
    const replayLoop = loopDelay();
    const replayStart = performance.now();
    let replayed = 0;
    await follow(
      wire.api,
      run.id,
      (event) => {
        if (event.type === 'output') replayed++;
      },
      60_000,
    ).done;
    const replayMs = performance.now() - replayStart;
    const replayDelays = delays(replayLoop);
    const seconds = (last - first) / 1000;
    const apiLineRate = (pieces - 1) / seconds;
    const apiByteRate = (bytesAtLast - bytesAtFirst) / seconds;
    const apiBytesPerMessage = (bytesAtLast - bytesAtFirst) / (messagesAtLast - messagesAtFirst);
    const shape: RunEvent = sample ?? {
      seq: 1,
      at: Date.now(),
      type: 'output',
      stream: 'stdout',
      text: '1',
      partial: false,
      continuation: false,
    };
    // What tRPC's WebSocket handler sends for a tracked subscription event.
    const raw = await rawWsLoopback(pieces, (index) => {
      const id = String(index + 3);
      const data = { ...shape, seq: index + 3, at: Date.now(), text: String(index + 1) };
      return JSON.stringify({ id: 1, result: { type: 'data', data: { id, data }, id } });
    });
    console.log(
      `2. one run printing ${lines.toLocaleString('en')} lines, \`seq ${lines}\` (RUNBOX_MAX_OUTPUT_LINES raised for it)`,
    );
    console.log(
      `  raw ws loopback, same messages   ${raw.linesPerSecond.toFixed(0)} lines/s  ${(raw.bytesPerSecond / MiB).toFixed(2)} MiB/s  (${raw.bytesPerMessage.toFixed(0)} B/message)`,
    );
    console.log(
      `  runbox over the WebSocket        ${apiLineRate.toFixed(0)} lines/s  ${(apiByteRate / MiB).toFixed(2)} MiB/s  (${apiBytesPerMessage.toFixed(0)} B/message)`,
    );
    console.log(
      `  ratio                            ${ratio(apiLineRate, raw.linesPerSecond)} lines/s  ${ratio(apiByteRate, raw.bytesPerSecond)} MiB/s`,
    );
    console.log(
      `  delivered                        ${pieces} pieces, ${split} lines split in two by the 100 ms partial flush; ${endState}${truncated}`,
    );
    console.log(
      `  timing                           create to last line ${ms(last - start)}, first to last ${ms(seconds * 1000)}; ${loopDelays}`,
    );
    console.log(
      `  process RSS                      ${(rssBefore / MiB).toFixed(0)} MiB before, ${(peakRss / MiB).toFixed(0)} MiB peak`,
    );
    console.log(
      `  replay after the end, from seq 0 ${replayed} pieces in ${ms(replayMs)} (${(replayed / (replayMs / 1000)).toFixed(0)} lines/s); ${replayDelays}`,
    );
  } finally {
    clearInterval(sampler);
    cancelRuns(runIds);
    await closeSockets([wire]);
  }
}

/** 3. 200 subscribers on 10 sockets, watching 10 runs that print a line every 100 ms. */
async function fanOut(http: ApiClient): Promise<void> {
  const streamSockets = Array.from({ length: STREAM_SOCKETS }, () => openSocket());
  const runIds: string[] = [];
  try {
    await Promise.all(streamSockets.map(connected));
    // The lead sleep lets every subscriber attach before the first line.
    const code = `sleep 1; for i in $(seq ${STREAM_LINES}); do echo "line $i"; sleep 0.1; done`;
    const wsLatencies: number[] = [];
    const engineLatencies: number[] = [];
    let replayed = 0;
    let missing = 0;
    let unfinished = 0;
    const loop = loopDelay();
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    await Promise.all(
      Array.from({ length: STREAM_RUNS }, async () => {
        const streaming = await within(
          http.runs.create.mutate({ kind: 'snippet', language: 'bash', code }),
          10_000,
          'runs.create',
        );
        runIds.push(streaming.id);
        const followers: Promise<void>[] = [];
        // In-process subscriber on the server's own engine: the same lines, no tRPC, no socket.
        followers.push(
          (async () => {
            const signal = AbortSignal.timeout(20_000);
            for await (const event of runbox.services.executor.events(streaming.id, { signal })) {
              if (event.type === 'output') engineLatencies.push(Date.now() - event.at);
            }
          })(),
        );
        for (const socket of streamSockets) {
          for (let k = 0; k < SUBS_PER_PAIR; k++) {
            let got = 0;
            const following = follow(
              socket.api,
              streaming.id,
              (event) => {
                if (event.type !== 'output') return;
                got++;
                const received = Date.now();
                if (event.at < following.subscribedAt) replayed++;
                else wsLatencies.push(received - event.at);
              },
              20_000,
            );
            followers.push(
              following.done.then(
                () => {
                  missing += STREAM_LINES - got;
                },
                () => {
                  unfinished++;
                },
              ),
            );
          }
        }
        await Promise.all(followers);
      }),
    );
    const cpu = process.cpuUsage(cpuBefore);
    const wall = performance.now() - wallBefore;
    const loopDelays = delays(loop);
    const subscribers = STREAM_RUNS * STREAM_SOCKETS * SUBS_PER_PAIR;
    const wsP95 = percentile(wsLatencies, 95);
    const engineP95 = percentile(engineLatencies, 95);
    console.log(
      `3. ${subscribers} subscribers on ${STREAM_SOCKETS} sockets watching ${STREAM_RUNS} runs at once (a line every 100 ms, ${STREAM_LINES} lines each)`,
    );
    console.log(
      `  engine, in-process subscriber    p50 ${ms(percentile(engineLatencies, 50))}  p95 ${ms(engineP95)}  (${engineLatencies.length} lines)`,
    );
    console.log(
      `  WebSocket subscribers            p50 ${ms(percentile(wsLatencies, 50))}  p95 ${ms(wsP95)}  p99 ${ms(percentile(wsLatencies, 99))}  max ${ms(percentile(wsLatencies, 100))}`,
    );
    console.log(
      `  p95 over the engine              +${ms(wsP95 - engineP95)}  (latency = receipt - event.at, both Date.now(), 1 ms resolution)`,
    );
    console.log(
      `  lines                            ${wsLatencies.length} live, ${replayed} replayed, ${missing} missing, ${unfinished} subscriptions unfinished in 20 s`,
    );
    console.log(
      `  load                             process CPU ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(0)}% of a core over ${ms(wall)}; ${loopDelays}`,
    );
  } finally {
    cancelRuns(runIds);
    await closeSockets(streamSockets);
  }
}

const CELL_ROUNDS = 100;
const TARGET_CELL_P50_MS = 20;

/** Milliseconds from a call that starts a run (a cell, or a fresh run) to its end at the socket. */
async function toEnd(live: ApiClient, start: () => Promise<{ id: string }>): Promise<number> {
  const begun = performance.now();
  const { id } = await start();
  let state = '';
  await follow(
    live,
    id,
    (event) => {
      if (event.type === 'end') state = event.result.state;
    },
    CYCLE_TIMEOUT_MS,
  ).done;
  if (state !== 'completed') throw new Error(`a run ended ${state}`);
  return performance.now() - begun;
}

/**
 * 4. A session's cell that increments a variable, from `sessions.run` over HTTP to its end over
 * the WebSocket, against a fresh run of the same code the same way, interleaved.
 */
async function cellRoundTrip(http: ApiClient): Promise<void> {
  const socket = openSocket();
  const session = await http.sessions.create.mutate({ language: 'python' });
  try {
    await connected(socket);
    const live = socket.api;
    await toEnd(live, () => http.sessions.run.mutate({ sessionId: session.id, code: 'x = 0' }));
    const cells: number[] = [];
    const fresh: number[] = [];
    for (let round = 0; round < CELL_ROUNDS; round++) {
      cells.push(
        await toEnd(live, () =>
          http.sessions.run.mutate({ sessionId: session.id, code: 'x += 1' }),
        ),
      );
      fresh.push(
        await toEnd(live, () =>
          http.runs.create.mutate({ kind: 'snippet', language: 'python', code: 'x = 0\nx += 1' }),
        ),
      );
    }
    const cellP50 = percentile(cells, 50);
    console.log(
      `4. a session cell \`x += 1\`, sessions.run over HTTP to its end over the WebSocket, ${CELL_ROUNDS} rounds`,
    );
    console.log(
      `  fresh Python run, the same way   p50 ${ms(percentile(fresh, 50))}  p95 ${ms(percentile(fresh, 95))}  (baseline)`,
    );
    console.log(
      `  cell                             p50 ${ms(cellP50)}  p95 ${ms(percentile(cells, 95))}  (${ratio(cellP50, percentile(fresh, 50))}; target p50 <= ${TARGET_CELL_P50_MS} ms: ${cellP50 <= TARGET_CELL_P50_MS ? 'met' : 'MISSED'})`,
    );
  } finally {
    await http.sessions.close.mutate({ id: session.id }).catch(() => {});
    await closeSockets([socket]);
  }
}

// Each section closes its sockets, shuts down its engines and cancels its runs when it ends; the
// server and what it made go in finish(), whatever happened.
try {
  const host = runbox.services.host;
  console.log(
    `runbox API, server in-process at ${runbox.url} (concurrency ${config.concurrency}, cgroup ${host.cgroups.version}, workspaces ${host.workspaces.mechanism})`,
  );
  for (const note of server.notes) console.log(`  note: ${note}`);
  const http = httpClient(server.trpcUrl, token);
  await section(`api: create to first line, ${LATENCY_RUNS} runs`, () => firstLineLatency(http));
  await section(
    `api: one run printing ${WANTED_LINES.toLocaleString('en')} lines to a WebSocket client`,
    () => throughput(http),
  );
  await section(
    `api: ${STREAM_RUNS * STREAM_SOCKETS * SUBS_PER_PAIR} WebSocket subscribers watching ${STREAM_RUNS} runs`,
    () => fanOut(http),
  );
  await section(`api: a session cell round trip over the WebSocket, ${CELL_ROUNDS} rounds`, () =>
    cellRoundTrip(http),
  );
} finally {
  await finish();
}
// A run whose sandbox never reported its end leaves its usage timer behind; nothing else is left.
process.exit();
