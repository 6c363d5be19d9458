import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Executor } from '../src/engine/executor.ts';
import type { RunRequest } from '../src/engine/run-request.ts';
import { NO_ENVIRONMENTS } from '../src/environments/environment-settings.ts';
import { createEnvironmentStore } from '../src/environments/environment-store.ts';
import { createToolCatalog } from '../src/tools/tool-catalog.ts';
import { startPackageIndex } from '../test/support/package-index.ts';
import { withBenchHost } from './bench-host.ts';
import { section } from './section.ts';
import { ms, percentile } from './stats.ts';

/**
 * What a cached dependency environment costs a run's start (environments/): submit to first line
 * of a Python tool run that imports a package from its project's environment, against the same
 * run with no environment, interleaved, after one run installed it. And the install itself, from
 * the bench's own package index on loopback through the egress proxy.
 */

const ROUNDS = 30;

async function firstLine(
  executor: Executor,
  request: RunRequest,
  signal: AbortSignal,
): Promise<number> {
  const start = performance.now();
  const run = await executor.submit(request);
  let first = Number.NaN;
  for await (const event of executor.events(run.id, { signal })) {
    if (event.type === 'output' && event.stream === 'stdout' && Number.isNaN(first))
      first = performance.now() - start;
    if (event.type === 'end' && event.result.state !== 'completed')
      throw new Error(`a run ended ${event.result.state}: ${event.result.error ?? ''}`);
  }
  return first;
}

await section(`environment start: a cached environment against none, ${ROUNDS} rounds`, (signal) =>
  withBenchHost('environment-start', async (bench) => {
    const { host } = bench;
    const index = await startPackageIndex({
      python: [
        {
          name: 'bench-greeting',
          version: '1.0.0',
          modules: { 'bench_greeting.py': 'HI = "hi"\n' },
        },
      ],
    });
    const root = await mkdtemp(join(tmpdir(), 'runbox-bench-env-'));
    const store = createEnvironmentStore({
      host,
      dir: join(root, 'environments'),
      settings: { ...NO_ENVIRONMENTS, pipIndexUrl: index.pipIndexUrl },
    });
    try {
      const tools = await createToolCatalog(host, { probe: false });
      const executor = bench.executor({
        concurrency: 1,
        tools,
        syntaxCheck: false,
        environments: store,
      });
      const withEnv = join(root, 'with');
      const without = join(root, 'without');
      for (const dir of [withEnv, without]) await mkdir(dir);
      await writeFile(join(withEnv, 'requirements.txt'), 'bench-greeting==1.0.0\n');
      await writeFile(
        join(withEnv, 'main.py'),
        'import bench_greeting\nprint(bench_greeting.HI)\n',
      );
      await writeFile(join(without, 'main.py'), 'print("hi")\n');
      const envRun: RunRequest = {
        kind: 'tool',
        toolId: 'python',
        projectDir: withEnv,
        environment: 'project',
      };
      const plainRun: RunRequest = { kind: 'tool', toolId: 'python', projectDir: without };

      const install = await firstLine(executor, envRun, signal);
      const cached: number[] = [];
      const plain: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        cached.push(await firstLine(executor, envRun, signal));
        plain.push(await firstLine(executor, plainRun, signal));
      }
      const gap = percentile(cached, 50) - percentile(plain, 50);
      console.log('python tool runs, one at a time, submit to first line');
      console.log(`  first run (installs the environment): ${ms(install)}`);
      console.log(
        `  cached environment  p50 ${ms(percentile(cached, 50))}  p95 ${ms(percentile(cached, 95))}`,
      );
      console.log(
        `  no environment      p50 ${ms(percentile(plain, 50))}  p95 ${ms(percentile(plain, 95))}`,
      );
      console.log(
        `  a cached environment adds ${ms(gap)} at p50 (${(percentile(cached, 50) / percentile(plain, 50)).toFixed(2)}x)`,
      );
    } finally {
      await store.close();
      await index.close();
      await rm(root, { recursive: true, force: true });
    }
  }),
);
