import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Executor } from '../src/engine/executor.ts';
import type { RunRequest } from '../src/engine/run-request.ts';
import { resolveLimits } from '../src/sandbox/limits.ts';
import type { KernelSnapshot } from '../src/sessions/kernel-messages.ts';
import { createSessionKernels } from '../src/sessions/session-kernels.ts';
import type { SessionLanguage } from '../src/sessions/session-languages.ts';
import { withBenchHost } from './bench-host.ts';
import { section } from './section.ts';
import { MiB, ms, percentile } from './stats.ts';

const ROUNDS = 100;
const TARGET_CELL_P50_MS = 10;

/** Submit to end of one run; throws unless it completed. */
async function roundTrip(
  executor: Executor,
  request: RunRequest,
  signal: AbortSignal,
): Promise<number> {
  const start = performance.now();
  const run = await executor.submit(request);
  for await (const event of executor.events(run.id, { signal })) {
    if (event.type === 'end') {
      if (event.result.state !== 'completed')
        throw new Error(`a ${request.kind} ended ${event.result.state}`);
      return performance.now() - start;
    }
  }
  throw new Error('the run had no end');
}

const PROGRAMS: [SessionLanguage, string, string][] = [
  ['python', 'x = 0', 'x += 1'],
  ['javascript', 'var x = 0', 'x += 1'],
];

await section(
  `sessions: a cell incrementing a variable, submit to end, ${ROUNDS} rounds, against a fresh run of the same code`,
  (signal) =>
    withBenchHost('sessions', async (bench) => {
      const snapshots = new Map<string, KernelSnapshot>();
      const languages = new Map<string, SessionLanguage>();
      const limits = { ...resolveLimits({}), wallTimeMs: 3_600_000 };
      const sessions = createSessionKernels(bench.host, {
        hooks: {
          spec: (id) => {
            const language = languages.get(id);
            return language ? { id, language, limits } : null;
          },
          snapshot: (id) => snapshots.get(id) ?? null,
          onSnapshot: (id, snapshot) => snapshots.set(id, snapshot),
        },
      });
      try {
        // No syntax check at submit, for both (its long-lived checkers, p50 0.5 ms a check, are
        // the host's and outlive the section's clean-up of run cgroups).
        const executor = bench.executor({ concurrency: 1, syntaxCheck: false, sessions });
        for (const [language, setUp, increment] of PROGRAMS) {
          const sessionId = randomUUID();
          languages.set(sessionId, language);
          await sessions.start(sessionId, { restore: false });
          const cell: RunRequest = { kind: 'cell', sessionId, language, code: increment };
          await roundTrip(executor, { ...cell, code: setUp }, signal);
          const fresh: RunRequest = { kind: 'snippet', language, code: `${setUp}\n${increment}` };
          const samples = { cell: [] as number[], fresh: [] as number[] };
          for (let round = 0; round < ROUNDS; round++) {
            samples.cell.push(await roundTrip(executor, cell, signal));
            if (round % 2 === 0) samples.fresh.push(await roundTrip(executor, fresh, signal));
          }
          const value = snapshots.get(sessionId)?.values.x;
          if (value !== ROUNDS) throw new Error(`x is ${String(value)} after ${ROUNDS} cells`);
          const memory = (await sessions.usage(sessionId))?.currentMemoryBytes ?? Number.NaN;
          const cellP50 = percentile(samples.cell, 50);
          const freshP50 = percentile(samples.fresh, 50);
          console.log(
            `  ${language.padEnd(10)} cell p50 ${ms(cellP50)} p95 ${ms(percentile(samples.cell, 95))}   fresh run p50 ${ms(freshP50)} p95 ${ms(percentile(samples.fresh, 95))}   cell/fresh ${(cellP50 / freshP50).toFixed(2)}x  (target cell p50 <= ${TARGET_CELL_P50_MS} ms: ${cellP50 <= TARGET_CELL_P50_MS ? 'met' : 'MISSED'})   idle kernel ${(memory / MiB).toFixed(1)} MiB`,
          );
          await sessions.stop(sessionId);
        }
      } finally {
        await sessions.close();
      }
    }),
);
