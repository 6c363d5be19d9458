import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { withBenchHost } from './bench-host.ts';
import { benchEventStore } from './event-store.ts';
import { section } from './section.ts';
import { MiB } from './stats.ts';

const RUNS = 1000;
const LINES = 1_000_000;
const concurrency = availableParallelism();

function gcAndRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
}

function gcAndHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

async function bareSpawns(count: number): Promise<number> {
  const start = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      await new Promise<void>((resolve, reject) => {
        spawn('/bin/true', { stdio: 'ignore' })
          .once('exit', () => resolve())
          .once('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return count / ((performance.now() - start) / 1000);
}

async function bareLines(): Promise<number> {
  const t = performance.now();
  const child = spawn('seq', [String(LINES)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let count = 0;
  for await (const _line of createInterface({ input: child.stdout })) count++;
  if (count !== LINES) throw new Error(`bare pipe delivered ${count} lines`);
  return LINES / ((performance.now() - t) / 1000);
}

await section(`engine: ${RUNS} trivial runs at concurrency ${concurrency}`, (signal) =>
  withBenchHost('engine-runs', async (bench) => {
    const { host } = bench;
    const executor = bench.executor({ concurrency, maxQueueLength: RUNS, syntaxCheck: false });
    const bareRate = await bareSpawns(RUNS);
    const rssBefore = gcAndRss();
    const start = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      ids.push((await executor.submit({ kind: 'snippet', language: 'bash', code: 'true' })).id);
    }
    const states = new Map<string, number>();
    for (const id of ids) {
      for await (const event of executor.events(id, { signal })) {
        if (event.type === 'end')
          states.set(event.result.state, (states.get(event.result.state) ?? 0) + 1);
      }
    }
    signal.throwIfAborted();
    const runRate = RUNS / ((performance.now() - start) / 1000);
    const rssAfter = gcAndRss();
    const leftoverWorkspaces = readdirSync(host.workspaces.root).filter((name) => {
      try {
        return readdirSync(`${host.workspaces.root}/${name}`).length > 0;
      } catch {
        return false;
      }
    }).length;
    console.log(`${RUNS} trivial bash runs at concurrency ${concurrency}`);
    console.log(`  bare spawn of /bin/true   ${bareRate.toFixed(0)} runs/s`);
    console.log(
      `  engine + sandbox          ${runRate.toFixed(0)} runs/s  (${(runRate / bareRate).toFixed(3)}x bare)`,
    );
    console.log(
      `  end states                ${[...states].map(([s, n]) => `${s} ${n}`).join(', ')}`,
    );
    console.log(
      `  server RSS                before ${(rssBefore / MiB).toFixed(0)} MiB, after ${(rssAfter / MiB).toFixed(0)} MiB`,
    );
    console.log(
      `  leftovers                 ${leftoverWorkspaces} workspaces with files, ${bench.runCgroups()} cgroups`,
    );
  }),
);

// The engine as the API has it: the default in-memory log (20,000 events) with a store behind it
// that keeps every event, so a subscriber that falls behind catches up from the store.
await section(
  `engine: one run printing ${LINES.toLocaleString('en')} lines to a subscriber`,
  (signal) =>
    withBenchHost('engine-lines', async (bench) => {
      const bareLineRate = await bareLines();
      const store = benchEventStore();
      const lines = bench.executor({
        concurrency: 1,
        syntaxCheck: false,
        output: { maxLines: LINES + 10 },
        hooks: store.hooks,
      });
      let peakRss = gcAndRss();
      const sampler = setInterval(() => {
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }, 50);
      let delivered = 0;
      let split = 0;
      let outOfOrder = 0;
      let endState = '?';
      let seconds: number;
      try {
        const t0 = performance.now();
        const run = await lines.submit({
          kind: 'snippet',
          language: 'bash',
          code: `seq ${LINES}`,
          limits: { outputBytes: 64 * MiB, wallTimeMs: 120_000 },
        });
        let lastSeq = 0;
        for await (const event of lines.events(run.id, { signal })) {
          if (event.seq !== lastSeq + 1) outOfOrder++;
          lastSeq = event.seq;
          if (event.type === 'output') {
            delivered++;
            if (event.partial) split++;
          }
          if (event.type === 'end') endState = event.result.state;
        }
        signal.throwIfAborted();
        seconds = (performance.now() - t0) / 1000;
      } finally {
        clearInterval(sampler);
      }
      const lineRate = delivered / seconds;
      const stored = store.size();
      const { reads } = store;
      const heapWithStore = gcAndHeap();
      store.clear();
      const storeHeap = heapWithStore - gcAndHeap();
      console.log(`one run printing ${LINES.toLocaleString('en')} lines`);
      console.log(`  bare pipe + readline      ${bareLineRate.toFixed(0)} lines/s`);
      console.log(
        `  engine to a subscriber    ${lineRate.toFixed(0)} lines/s  (${(lineRate / bareLineRate).toFixed(3)}x bare), ${delivered} delivered (${split} split by the partial flush), ${endState}`,
      );
      console.log(
        `  read back from the store  ${reads.events} events in ${reads.calls} reads (gone from the engine's 20,000-event log before the subscriber took them); ${outOfOrder} gaps or repeats in seq`,
      );
      console.log(
        `  server peak RSS           ${(peakRss / MiB).toFixed(0)} MiB, including the emulated store's ${stored} events (${(storeHeap / MiB).toFixed(0)} MiB of heap once the run ended)`,
      );
      if (outOfOrder > 0) throw new Error(`${outOfOrder} events came out of seq order`);
    }),
);
