import { lchown, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Executor } from '../src/engine/executor.ts';
import { createToolCatalog } from '../src/tools/tool-catalog.ts';
import { withBenchHost } from './bench-host.ts';
import { section } from './section.ts';
import { ms, percentile } from './stats.ts';

/**
 * Start cost against project size: submit to the first line of a tool run on a 1,000-file project
 * and on a 10-file one, in the same run, interleaved. Layered projects (project-layer.ts: the
 * stored project read-only under the run's own writable layer, the sandbox user owns it, as
 * uploads are stored) against copied ones (the same files, owned by root, so copied into each
 * run's workspace as before).
 */

const ROUNDS = 30;
const TARGET_P50_GAP_MS = 5;
const SIZES = [10, 1_000] as const;

/** `run.sh` prints at once; the rest are small files in directories of 100. */
async function makeProject(
  root: string,
  files: number,
  owner: { uid: number; gid: number } | null,
): Promise<string> {
  const dir = await mkdtemp(join(root, `p${files}-`));
  await writeFile(join(dir, 'run.sh'), 'echo start\n');
  for (let index = 1; index < files; index++) {
    const sub = join(dir, 'src', `d${Math.floor(index / 100)}`);
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, `f${index}.txt`), `file ${index}\n`.repeat(8));
  }
  if (owner) {
    const paths = ['', ...(await readdir(dir, { recursive: true }))];
    for (const path of paths) await lchown(join(dir, path), owner.uid, owner.gid);
  }
  return dir;
}

interface Case {
  label: string;
  files: number;
  kind: string;
  dir: string;
  samples: number[];
  firstRun: number;
}

async function firstLine(
  executor: Executor,
  projectDir: string,
  signal: AbortSignal,
): Promise<number> {
  const start = performance.now();
  const run = await executor.submit({ kind: 'tool', toolId: 'bash', projectDir });
  let first = Number.NaN;
  for await (const event of executor.events(run.id, { signal })) {
    if (event.type === 'output' && Number.isNaN(first)) first = performance.now() - start;
    if (event.type === 'end' && event.result.state !== 'completed')
      throw new Error(`a run ended ${event.result.state}: ${event.result.error ?? ''}`);
  }
  return first;
}

await section(
  `project start: submit to first line, ${SIZES.join(' vs ')} files, ${ROUNDS} rounds`,
  (signal) =>
    withBenchHost('project-start', async (bench) => {
      const { host } = bench;
      const tools = await createToolCatalog(host, { probe: false });
      const executor = bench.executor({ concurrency: 1, tools, syntaxCheck: false });
      const root = await mkdtemp(join(tmpdir(), 'runbox-bench-projects-'));
      try {
        const kinds = [
          ...(host.projectLayers.available && host.runAs
            ? [{ name: 'layered', owner: host.runAs }]
            : []),
          { name: 'copied', owner: null },
        ];
        if (!host.projectLayers.available)
          console.log(`  (no project layers here: ${host.projectLayers.reason})`);
        const cases: Case[] = [];
        for (const kind of kinds)
          for (const files of SIZES)
            cases.push({
              label: `${kind.name} ${files}`,
              files,
              kind: kind.name,
              dir: await makeProject(root, files, kind.owner),
              samples: [],
              firstRun: Number.NaN,
            });
        // The first run of a project lists it once for the process (project-listings.ts).
        for (const item of cases) item.firstRun = await firstLine(executor, item.dir, signal);
        for (let round = 0; round < ROUNDS; round++)
          for (const item of cases) item.samples.push(await firstLine(executor, item.dir, signal));

        console.log(`tool runs (bash run.sh), one at a time, submit to first line`);
        for (const item of cases)
          console.log(
            `  ${item.label.padEnd(14)} files  p50 ${ms(percentile(item.samples, 50))}  p95 ${ms(percentile(item.samples, 95))}  first run ${ms(item.firstRun)}`,
          );
        for (const kind of kinds) {
          const [small, large] = SIZES.map((files) =>
            cases.find((item) => item.kind === kind.name && item.files === files),
          );
          if (!small || !large) continue;
          const gap = percentile(large.samples, 50) - percentile(small.samples, 50);
          const verdict =
            kind.name === 'layered'
              ? `  (target <= ${TARGET_P50_GAP_MS} ms: ${gap <= TARGET_P50_GAP_MS ? 'met' : 'MISSED'})`
              : '';
          console.log(`  ${kind.name}: ${SIZES[1]} files start ${ms(gap)} later at p50${verdict}`);
        }
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    }),
);
