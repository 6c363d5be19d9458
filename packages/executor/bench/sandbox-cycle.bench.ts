import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { resolveLimits, type SandboxHost } from '../src/index.ts';
import { baseSandboxEnv } from '../src/sandbox/sandbox-environment.ts';
import { withBenchHost } from './bench-host.ts';
import { section } from './section.ts';
import { ms, percentile } from './stats.ts';

const ITERATIONS = 200;
const TARGET_P95_OVERHEAD_MS = 15;
/** Issue 12: the full cycle at most this many times plain bubblewrap's (it was 2.0x). */
const TARGET_BWRAP_RATIO = 1.5;

function bareSpawn(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

/** Plain bubblewrap: the host's root bound read-only, `true` in it, nothing else. */
function plainBwrap(bwrap: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(bwrap, ['--ro-bind', '/', '/', '/bin/true'], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`plain bwrap exited ${code}`)),
    );
  });
}

const limits = resolveLimits({});
const prefix = `bench-${randomBytes(3).toString('hex')}`;

async function sandboxCycle(host: SandboxHost, index: number): Promise<void> {
  const workspace = await host.workspaces.acquire(limits.workspaceBytes);
  try {
    const report = await host.run({
      runId: `${prefix}-${index}`,
      argv: ['/bin/true'],
      limits,
      workspaceDir: workspace.dir,
      env: baseSandboxEnv(),
    });
    if (report.exitCode !== 0)
      throw new Error(`sandboxed true failed: ${report.setupError ?? report.exitCode}`);
  } finally {
    await workspace.release();
  }
}

await section(`sandbox cycle: /bin/true, ${ITERATIONS} runs`, (signal) =>
  withBenchHost('cycle', async ({ host }) => {
    // Warm both paths (first mount, first cgroup parents, page cache).
    for (let i = 0; i < 10; i++) {
      await bareSpawn();
      await plainBwrap(host.tools.bwrap);
      await sandboxCycle(host, -1 - i);
    }

    const bare: number[] = [];
    const bwrap: number[] = [];
    const sandboxed: number[] = [];
    // Interleaved so all three see the same machine load.
    for (let i = 0; i < ITERATIONS; i++) {
      signal.throwIfAborted();
      let start = performance.now();
      await bareSpawn();
      bare.push(performance.now() - start);
      start = performance.now();
      await plainBwrap(host.tools.bwrap);
      bwrap.push(performance.now() - start);
      start = performance.now();
      await sandboxCycle(host, i);
      sandboxed.push(performance.now() - start);
    }

    const bareP50 = percentile(bare, 50);
    const bareP95 = percentile(bare, 95);
    const boxP50 = percentile(sandboxed, 50);
    const boxP95 = percentile(sandboxed, 95);
    const overheadP95 = boxP95 - bareP95;
    console.log(
      `sandbox cycle for /bin/true, ${ITERATIONS} runs (workspace ${host.workspaces.mechanism}, cgroup ${host.cgroups.version})`,
    );
    const bwrapP50 = percentile(bwrap, 50);
    const bwrapRatio = boxP50 / bwrapP50;
    console.log(`  bare spawn      p50 ${ms(bareP50)}  p95 ${ms(bareP95)}`);
    console.log(`  plain bwrap     p50 ${ms(bwrapP50)}  p95 ${ms(percentile(bwrap, 95))}`);
    console.log(`  full sandbox    p50 ${ms(boxP50)}  p95 ${ms(boxP95)}`);
    console.log(
      `  ratio           p50 ${(boxP50 / bareP50).toFixed(1)}x  p95 ${(boxP95 / bareP95).toFixed(1)}x`,
    );
    console.log(
      `  vs plain bwrap  p50 ${bwrapRatio.toFixed(2)}x (target <= ${TARGET_BWRAP_RATIO}x: ${bwrapRatio <= TARGET_BWRAP_RATIO ? 'met' : 'MISSED'}; every layer: workspace tmpfs, cgroup made and removed, the forker's launcher (rlimits, privilege drop), seccomp, namespaces, tini)`,
    );
    console.log(
      `  p95 overhead    ${ms(overheadP95)} (target <= ${TARGET_P95_OVERHEAD_MS} ms: ${overheadP95 <= TARGET_P95_OVERHEAD_MS ? 'met' : 'MISSED'})`,
    );
  }),
);
