import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { Executor } from '../src/engine/executor.ts';
import type { Language } from '../src/languages/index.ts';
import { createWarmSandboxes, type WarmSandboxes } from '../src/run-path/warm-sandboxes.ts';
import { withBenchHost } from './bench-host.ts';
import { section } from './section.ts';
import { ms, MiB, percentile } from './stats.ts';

const ROUNDS = 60;
const THROUGHPUT_RUNS = 300;
const TARGET_FIRST_LINE_P50_MS = 20;
const TARGET_RUNS_PER_SECOND = 100;

async function untilReady(pool: WarmSandboxes, signal: AbortSignal): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const stats = await pool.stats();
    if (stats.every((entry) => entry.ready === entry.size)) return;
    await sleep(2);
  }
}

/** Submit to the first output event, and to the end, of one run. */
async function timeRun(
  executor: Executor,
  language: Language,
  code: string,
  signal: AbortSignal,
): Promise<{ firstLine: number; end: number }> {
  const start = performance.now();
  const run = await executor.submit({ kind: 'snippet', language, code });
  let firstLine = Number.NaN;
  for await (const event of executor.events(run.id, { signal })) {
    if (event.type === 'output' && Number.isNaN(firstLine)) firstLine = performance.now() - start;
    if (event.type === 'end') {
      if (event.result.state !== 'completed')
        throw new Error(`a ${language} run ended ${event.result.state}`);
      return { firstLine, end: performance.now() - start };
    }
  }
  throw new Error('the run had no end');
}

const PROGRAMS: [Language, string][] = [
  ['python', 'print("hi")'],
  ['javascript', 'console.log("hi")'],
  ['typescript', 'const word: string = "hi";\nconsole.log(word)'],
];

await section(
  `warm sandboxes: submit to first line, ${ROUNDS} rounds, cold and warm interleaved`,
  (signal) =>
    withBenchHost('warm-first-line', async (bench) => {
      const pool = createWarmSandboxes(bench.host, {
        sizes: { python: 1, javascript: 1, typescript: 1 },
      });
      try {
        const cold = bench.executor({ concurrency: 1, syntaxCheck: false });
        const warm = bench.executor({ concurrency: 1, syntaxCheck: false, warm: pool });
        console.log(`submit to first line in the engine, one run at a time, ${ROUNDS} rounds`);
        for (const [language, code] of PROGRAMS) {
          const samples = { cold: [] as number[], warm: [] as number[] };
          for (let round = 0; round < ROUNDS; round++) {
            samples.cold.push((await timeRun(cold, language, code, signal)).firstLine);
            // An interactive user's next run: the pool has refilled meanwhile.
            await untilReady(pool, signal);
            samples.warm.push((await timeRun(warm, language, code, signal)).firstLine);
          }
          const coldP50 = percentile(samples.cold, 50);
          const warmP50 = percentile(samples.warm, 50);
          console.log(
            `  ${language.padEnd(10)} cold p50 ${ms(coldP50)} p95 ${ms(percentile(samples.cold, 95))}   warm p50 ${ms(warmP50)} p95 ${ms(percentile(samples.warm, 95))}   warm/cold ${(warmP50 / coldP50).toFixed(2)}x  (target warm p50 <= ${TARGET_FIRST_LINE_P50_MS} ms: ${warmP50 <= TARGET_FIRST_LINE_P50_MS ? 'met' : 'MISSED'})`,
          );
        }
        const stats = await pool.stats();
        for (const entry of stats) {
          console.log(
            `  pool ${entry.language.padEnd(10)} hits ${entry.hits}, misses ${entry.misses}, refill p50 ${ms(entry.refillMsP50 ?? Number.NaN)}, idle memory ${(entry.idleMemoryBytes / MiB).toFixed(1)} MiB for ${entry.ready}`,
          );
        }
      } finally {
        await pool.close();
      }
    }),
);

await section(`warm sandboxes: ${THROUGHPUT_RUNS} trivial Python runs at concurrency 2`, (signal) =>
  withBenchHost('warm-throughput', async (bench) => {
    const pool = createWarmSandboxes(bench.host, { sizes: { python: 2 } });
    try {
      const rate = async (executor: Executor): Promise<number> => {
        const start = performance.now();
        const ids: string[] = [];
        for (let i = 0; i < THROUGHPUT_RUNS; i++)
          ids.push(
            (await executor.submit({ kind: 'snippet', language: 'python', code: 'pass' })).id,
          );
        for (const id of ids)
          for await (const event of executor.events(id, { signal }))
            if (event.type === 'end' && event.result.state !== 'completed')
              throw new Error(`a run ended ${event.result.state}`);
        return THROUGHPUT_RUNS / ((performance.now() - start) / 1000);
      };
      const options = { concurrency: 2, maxQueueLength: THROUGHPUT_RUNS, syntaxCheck: false };
      const coldRate = await rate(bench.executor(options));
      await untilReady(pool, signal);
      const warmRate = await rate(bench.executor({ ...options, warm: pool }));
      const [stats] = await pool.stats();
      console.log(`${THROUGHPUT_RUNS} trivial Python runs (\`pass\`) at concurrency 2`);
      console.log(`  cold                      ${coldRate.toFixed(0)} runs/s`);
      console.log(
        `  warm                      ${warmRate.toFixed(0)} runs/s  (${(warmRate / coldRate).toFixed(2)}x cold; hits ${stats?.hits}, misses ${stats?.misses}; target >= ${TARGET_RUNS_PER_SECOND}/s: ${warmRate >= TARGET_RUNS_PER_SECOND ? 'met' : 'MISSED'})`,
      );
    } finally {
      await pool.close();
    }
  }),
);
