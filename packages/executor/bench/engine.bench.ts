import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { createExecutor } from '../src/engine/executor.ts';
import { hostEnvFrom } from '../src/host-env.ts';
import { createSandboxHost } from '../src/sandbox/sandbox-host.ts';

const RUNS = 1000;
const LINES = 1_000_000;
const MiB = 1024 * 1024;
const concurrency = availableParallelism();

const env = hostEnvFrom(process.env);
const group = `runbox-bench-engine-${process.pid}`;
const host = await createSandboxHost({ ...env.host, cgroupGroupName: group });

function gcAndRss(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss;
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

// 1. 1000 trivial runs at full concurrency.
const executor = createExecutor({ host, concurrency, maxQueueLength: RUNS, syntaxCheck: false });
const bareRate = await bareSpawns(RUNS);
const rssBefore = gcAndRss();
const start = performance.now();
const ids: string[] = [];
for (let i = 0; i < RUNS; i++) {
  ids.push((await executor.submit({ kind: 'snippet', language: 'bash', code: 'true' })).id);
}
const states = new Map<string, number>();
for (const id of ids) {
  for await (const event of executor.events(id)) {
    if (event.type === 'end')
      states.set(event.result.state, (states.get(event.result.state) ?? 0) + 1);
  }
}
const runRate = RUNS / ((performance.now() - start) / 1000);
const rssAfter = gcAndRss();
const leftoverWorkspaces = readdirSync(host.workspaces.root).filter((name) => {
  try {
    return readdirSync(`${host.workspaces.root}/${name}`).length > 0;
  } catch {
    return false;
  }
}).length;
const cgroupParents =
  host.cgroups.version === 'v1'
    ? [`/sys/fs/cgroup/memory/${group}`, `/sys/fs/cgroup/pids/${group}`]
    : [];
const leftoverCgroups = cgroupParents.reduce(
  (sum, dir) =>
    sum + readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).length,
  0,
);
console.log(`${RUNS} trivial bash runs at concurrency ${concurrency}`);
console.log(`  bare spawn of /bin/true   ${bareRate.toFixed(0)} runs/s`);
console.log(
  `  engine + sandbox          ${runRate.toFixed(0)} runs/s  (${(runRate / bareRate).toFixed(3)}x bare)`,
);
console.log(`  end states                ${[...states].map(([s, n]) => `${s} ${n}`).join(', ')}`);
console.log(
  `  server RSS                before ${(rssBefore / MiB).toFixed(0)} MiB, after ${(rssAfter / MiB).toFixed(0)} MiB`,
);
console.log(
  `  leftovers                 ${leftoverWorkspaces} workspaces with files, ${leftoverCgroups} cgroups`,
);

// 2. One run printing 1,000,000 lines, delivered to a subscriber.
async function bareLines(): Promise<number> {
  const t = performance.now();
  const child = spawn('seq', [String(LINES)], { stdio: ['ignore', 'pipe', 'ignore'] });
  let count = 0;
  for await (const _line of createInterface({ input: child.stdout })) count++;
  if (count !== LINES) throw new Error(`bare pipe delivered ${count} lines`);
  return LINES / ((performance.now() - t) / 1000);
}
const bareLineRate = await bareLines();
const lines = createExecutor({
  host,
  concurrency: 1,
  syntaxCheck: false,
  output: { maxLines: LINES + 10 },
});
let peakRss = gcAndRss();
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);
const t0 = performance.now();
const run = await lines.submit({
  kind: 'snippet',
  language: 'bash',
  code: `seq ${LINES}`,
  limits: { outputBytes: 64 * MiB, wallTimeMs: 120_000 },
});
let delivered = 0;
let endState = '';
for await (const event of lines.events(run.id)) {
  if (event.type === 'output') delivered++;
  if (event.type === 'end') endState = event.result.state;
}
clearInterval(sampler);
const lineRate = delivered / ((performance.now() - t0) / 1000);
console.log(`one run printing ${LINES.toLocaleString('en')} lines`);
console.log(`  bare pipe + readline      ${bareLineRate.toFixed(0)} lines/s`);
console.log(
  `  engine to a subscriber    ${lineRate.toFixed(0)} lines/s  (${(lineRate / bareLineRate).toFixed(3)}x bare), ${delivered} delivered, ${endState}`,
);
console.log(`  server peak RSS           ${(peakRss / MiB).toFixed(0)} MiB`);
await host.close();
