import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Executor, RunResult } from '../src/index.ts';
import { parseV1Mounts } from '../src/sandbox/cgroup-v1.ts';
import { HOST_CPUS } from '../src/sandbox/limits.ts';
import { withBenchHost, type BenchHost } from './bench-host.ts';
import { section } from './section.ts';
import { percentile } from './stats.ts';

const ROUNDS = 5;
const TARGET_RATIO = 1.3;
/** Spinning processes of the hog: several per core, so that it could take every core alone. */
const HOG_PROCESSES = 4 * HOST_CPUS;
/** About 2 s of one core for Python on this kind of machine. */
const BENIGN = 'i = 0\nwhile i < 30_000_000:\n    i += 1\nprint(i)\n';
const HOG = `for i in $(seq ${HOG_PROCESSES}); do (while :; do :; done) & done; wait`;

/** CPU time so far of one run's cgroup, in ms; 0 before it exists and after it is gone. */
function runCpuMs(bench: BenchHost, runId: string): number {
  try {
    if (bench.host.cgroups.version === 'v2') {
      const stat = readFileSync(join(bench.host.cgroups.location, runId, 'cpu.stat'), 'utf8');
      return Number(/usage_usec (\d+)/.exec(stat)?.[1] ?? 0) / 1000;
    }
    const cpuacct = parseV1Mounts(readFileSync('/proc/self/mountinfo', 'utf8'))?.cpuacct;
    if (!cpuacct) return 0;
    return Number(readFileSync(join(cpuacct, bench.group, runId, 'cpuacct.usage'), 'utf8')) / 1e6;
  } catch {
    return 0;
  }
}

/** CPU time the whole machine has spent busy so far, in ms (every core, every process). */
function machineBusyMs(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // user, nice, system, irq, softirq, steal: in USER_HZ ticks (100 a second).
  const busy = [0, 1, 2, 5, 6, 7].reduce((sum, index) => sum + (fields[index] ?? 0), 0);
  return busy * 10;
}

async function endOf(executor: Executor, id: string, signal: AbortSignal): Promise<RunResult> {
  for await (const event of executor.events(id, { signal })) {
    if (event.type === 'end') return event.result;
  }
  throw new Error(`run ${id} ended without an end event`);
}

interface Together {
  benignMs: number;
  /** Of the CPU time both runs had while the benign one ran, the benign one's part. */
  benignShare: number;
  /** Cores' worth of CPU the rest of the machine (outside these two runs) used meanwhile. */
  otherCores: number;
}

await section(
  `CPU fairness: a benign run alone and beside a hog (cpus ${HOST_CPUS}, ${HOG_PROCESSES} spinning processes), concurrency 2`,
  (signal) =>
    withBenchHost('fairness', async (bench) => {
      const executor = bench.executor({ concurrency: 2, syntaxCheck: false });
      const submitBenign = () =>
        executor.submit({
          kind: 'snippet',
          language: 'python',
          code: BENIGN,
          limits: { cpus: 1, wallTimeMs: 120_000 },
        });

      async function alone(): Promise<number> {
        const run = await submitBenign();
        const result = await endOf(executor, run.id, signal);
        if (result.state !== 'completed') throw new Error(`benign run ended ${result.state}`);
        return result.durationMs;
      }

      async function together(): Promise<Together> {
        const hog = await executor.submit({
          kind: 'snippet',
          language: 'bash',
          code: HOG,
          limits: { cpus: HOST_CPUS, wallTimeMs: 120_000 },
        });
        const hogEnd = endOf(executor, hog.id, signal);
        try {
          // Until the hog spins on every core it can.
          while (runCpuMs(bench, hog.id) < 500) {
            signal.throwIfAborted();
            await sleep(20);
          }
          const run = await submitBenign();
          // Sampled while the benign run lives; its cgroup (and its count) goes when it ends.
          let benignCpu = 0;
          let start: { hog: number; busy: number; at: number } | null = null;
          let last = { hog: 0, busy: 0, at: 0 };
          const sampler = setInterval(() => {
            const now = { hog: runCpuMs(bench, hog.id), busy: machineBusyMs(), at: Date.now() };
            const benign = runCpuMs(bench, run.id);
            if (benign > 0) {
              start ??= now;
              benignCpu = benign;
              last = now;
            }
          }, 20);
          const result = await endOf(executor, run.id, signal).finally(() =>
            clearInterval(sampler),
          );
          if (result.state !== 'completed') throw new Error(`benign run ended ${result.state}`);
          const window = start as { hog: number; busy: number; at: number } | null;
          if (!window || last.at <= window.at) throw new Error('no CPU samples of the benign run');
          const hogCpu = last.hog - window.hog;
          const otherMs = last.busy - window.busy - hogCpu - benignCpu;
          return {
            benignMs: result.durationMs,
            benignShare: benignCpu / (benignCpu + hogCpu),
            otherCores: Math.max(0, otherMs) / (last.at - window.at),
          };
        } finally {
          executor.cancel(hog.id);
          await hogEnd;
        }
      }

      await alone(); // warm-up: page cache, the first tmpfs slot, the cgroup parents
      const aloneMs: number[] = [];
      const besideHog: Together[] = [];
      // Interleaved, so that both see the same load from the rest of the machine.
      for (let round = 0; round < ROUNDS; round++) {
        aloneMs.push(await alone());
        besideHog.push(await together());
      }
      const aloneP50 = percentile(aloneMs, 50);
      const togetherP50 = percentile(
        besideHog.map((run) => run.benignMs),
        50,
      );
      const ratio = togetherP50 / aloneP50;
      const share = percentile(
        besideHog.map((run) => run.benignShare),
        50,
      );
      const other = percentile(
        besideHog.map((run) => run.otherCores),
        50,
      );
      console.log(
        `benign Python loop (cpus 1) alone and beside a hog, ${ROUNDS} rounds, ${HOST_CPUS} cores (cgroup ${bench.host.cgroups.version})`,
      );
      console.log(`  alone           p50 ${aloneMs.length ? aloneP50.toFixed(0) : '?'} ms`);
      console.log(`  beside the hog  p50 ${togetherP50.toFixed(0)} ms`);
      console.log(
        `  ratio           ${ratio.toFixed(2)}x (target <= ${TARGET_RATIO}x: ${ratio <= TARGET_RATIO ? 'met' : 'MISSED'})`,
      );
      console.log(
        `  benign's part of the two runs' CPU while both ran: ${(share * 100).toFixed(0)}% (equal weights: 50% when both want more than they get)`,
      );
      console.log(
        `  rest of the machine meanwhile: ${other.toFixed(2)} cores busy${other > 0.25 ? ' (it competes with the runs for the cores: the ratio includes it)' : ''}`,
      );
      // What the split means on a machine with nothing else busy: the runs share every core.
      const idleBenignCores = Math.min(1, share * HOST_CPUS);
      console.log(
        `  with the machine to itself, that split leaves the benign run ${idleBenignCores.toFixed(2)} of its 1 core: ${(1 / idleBenignCores).toFixed(2)}x expected`,
      );
    }),
  { timeoutMs: 600_000 },
);
