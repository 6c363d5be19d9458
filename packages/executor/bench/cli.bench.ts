import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { section } from './section.ts';
import { ms, percentile } from './stats.ts';

const RUNS = 20;
const TARGET_MS = 500;
const RUNBOX = fileURLToPath(new URL('../../../runbox', import.meta.url));

interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Wall time of one command, from spawn to its end; throws unless it printed what it should. */
async function timed(
  command: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  expectedStdout: string,
): Promise<number> {
  const start = performance.now();
  const finished = await run(command, args, env);
  const elapsed = performance.now() - start;
  if (finished.code !== 0 || finished.stdout !== expectedStdout) {
    throw new Error(
      `${command} ${args.join(' ')}: exit ${finished.code}, stdout ${JSON.stringify(finished.stdout)}, stderr ${JSON.stringify(finished.stderr.slice(-500))}`,
    );
  }
  return elapsed;
}

/** Removes the section's sandbox directory; fails when a mount stays. */
async function removeSandboxDir(stateDir: string): Promise<void> {
  const mounts = (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .filter((line) => line.split(' ')[1]?.startsWith(`${stateDir}/`));
  if (mounts.length > 0) throw new Error(`${mounts.length} mounts left under ${stateDir}`);
  // Each CLI process's host removes its own cgroup group when it closes.
  await rm(stateDir, { recursive: true, force: true });
}

function line(label: string, samples: readonly number[]): string {
  return `  ${label.padEnd(34)} p50 ${ms(percentile(samples, 50))}  p95 ${ms(percentile(samples, 95))}`;
}

await section(`./runbox exec of a trivial Python file, ${RUNS} runs`, async (signal) => {
  // A sandbox directory of its own: the warm-up run's self-test and every run's files are there.
  const stateDir = await mkdtemp(join(tmpdir(), 'runbox-bench-cli-'));
  try {
    const file = join(stateDir, 'a.py');
    await writeFile(file, 'print(1)\n');
    const env = { ...process.env, RUNBOX_SANDBOX_DIR: stateDir };
    const execArgs = ['exec', '--lang', 'python', file];
    const nodeArgs = ['-e', '0'];
    const bwrapArgs = ['--ro-bind', '/', '/', 'true'];

    // Warm-up: the self-test of the new sandbox directory (cached for the runs), the page cache.
    await timed(RUNBOX, execArgs, env, '1\n');
    await timed(process.execPath, nodeArgs, env, '');
    await timed('bwrap', bwrapArgs, env, '');

    const cli: number[] = [];
    const node: number[] = [];
    const bwrap: number[] = [];
    // Interleaved so that all three see the same machine load.
    for (let i = 0; i < RUNS; i++) {
      signal.throwIfAborted();
      node.push(await timed(process.execPath, nodeArgs, env, ''));
      bwrap.push(await timed('bwrap', bwrapArgs, env, ''));
      cli.push(await timed(RUNBOX, execArgs, env, '1\n'));
    }

    const p50 = percentile(cli, 50);
    const p95 = percentile(cli, 95);
    const nodeP50 = percentile(node, 50);
    console.log(`./runbox exec --lang python <print(1)>, ${RUNS} runs after one warm-up`);
    console.log(line('node -e 0 (the toolchain Node)', node));
    console.log(line('bwrap --ro-bind / / true', bwrap));
    console.log(line('./runbox exec', cli));
    console.log(`  ${'ratio to node -e 0'.padEnd(34)} p50 ${(p50 / nodeP50).toFixed(1)}x`);
    console.log(
      `  ${'wall time'.padEnd(34)} p95 ${ms(p95)} (target <= ${TARGET_MS} ms: ${p95 <= TARGET_MS ? 'met' : 'MISSED'})`,
    );
  } finally {
    await removeSandboxDir(stateDir);
  }
});
