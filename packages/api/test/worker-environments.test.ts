import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from '@runbox/executor';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../cluster/test/support/redis-server.ts';
import {
  startWorkerProcess,
  type WorkerProcess,
} from '../../cluster/test/support/worker-process.ts';
import { startPackageIndex, type PackageIndex } from '../../executor/test/support/package-index.ts';
import { buildTar } from '../src/uploads/test-support/build-tar.ts';
import { makeClient, newOwnerCookie, type TestClient } from './support/clients.ts';
import { removeCgroupGroup, testSandboxUid } from './support/server.ts';
import { startServerProcess, type ServerProcess } from './support/subprocess.ts';
import { fullOutput, outputLines } from './support/subscriptions.ts';

/**
 * A dependency environment on the worker path: the API (RUNBOX_ROLE=api) checks the project's
 * manifests at create, a worker process installs the environment in its own sandbox from the
 * test's package index (through its own egress proxy), caches it, and the next run there takes
 * it from the cache.
 */

const WORKER_TOKEN = 'test-worker-token-envs-0123456789';
const tempDirs: string[] = [];
let cgroupGroup: string;
let redis: TestRedis;
let index: PackageIndex;
let server: ServerProcess;
let worker: WorkerProcess;
let owner: TestClient;

function endOf(events: readonly RunEvent[]): Extract<RunEvent, { type: 'end' }>['result'] {
  const last = events.at(-1);
  if (last?.type !== 'end') throw new Error(`the last event is ${last?.type}, not end`);
  return last.result;
}

beforeAll(async () => {
  redis = await startTestRedis();
  index = await startPackageIndex({
    python: [
      {
        name: 'worker-greeting',
        version: '1.0.0',
        modules: { 'worker_greeting.py': 'VALUE = "installed on the worker"\n' },
      },
    ],
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'runbox-api-envs-data-'));
  const sandboxDir = await mkdtemp(join(tmpdir(), 'runbox-api-envs-sandbox-'));
  tempDirs.push(dataDir, sandboxDir);
  cgroupGroup = `runbox-api-test-envs-${randomBytes(3).toString('hex')}`;
  server = await startServerProcess({
    dataDir,
    sandboxDir,
    sandboxUid: testSandboxUid(),
    cgroupGroup,
    env: {
      RUNBOX_REDIS_URL: redis.url,
      RUNBOX_ROLE: 'api',
      RUNBOX_WORKER_TOKEN: WORKER_TOKEN,
      RUNBOX_WORKER_LEASE_MS: '2000',
      RUNBOX_PIP_INDEX_URL: index.pipIndexUrl,
    },
  });
  worker = await startWorkerProcess({
    redisUrl: redis.url,
    name: 'envs',
    env: {
      RUNBOX_API_URL: server.url,
      RUNBOX_WORKER_TOKEN: WORKER_TOKEN,
      RUNBOX_PIP_INDEX_URL: index.pipIndexUrl,
    },
  });
  owner = makeClient(server.url, { cookie: await newOwnerCookie(server.url) });
}, 60_000);

afterAll(async () => {
  await owner?.close();
  await worker?.terminate();
  await worker?.cleanUp();
  if (server && server.child.exitCode === null) await server.terminate();
  await redis?.stop();
  await index?.close();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  if (cgroupGroup) await removeCgroupGroup(cgroupGroup);
});

describe('a dependency environment, run on a worker', () => {
  it('is installed by the worker, then taken from its cache', async () => {
    const tar = await buildTar([
      { name: 'requirements.txt', data: Buffer.from('worker-greeting==1.0.0\n') },
      {
        name: 'main.py',
        data: Buffer.from('import worker_greeting\nprint(worker_greeting.VALUE)\n'),
      },
    ]);
    const form = new FormData();
    form.append('archive', new File([new Uint8Array(tar)], 'envs.tar'));
    const project = await owner.trpc.projects.upload.mutate(form);

    const rules: string[] = [];
    for (const round of [1, 2]) {
      const run = await owner.trpc.runs.create.mutate({
        kind: 'tool',
        toolId: 'python',
        projectId: project.id,
        environment: 'project',
      });
      const events = await fullOutput(owner.trpc, run.id);
      const result = endOf(events);
      expect(result.error, `round ${round}`).toBeNull();
      expect(result.state, `round ${round}`).toBe('completed');
      expect(outputLines(events)).toContain('installed on the worker');
      const note = result.warnings.find((warning) => warning.check === 'environment');
      rules.push(note?.rule ?? 'none');
      const view = await owner.trpc.runs.get.query({ id: run.id });
      expect(view.environment).toBe('project');
    }
    expect(rules).toEqual(['installed', 'cached']);
    expect(index.requests.filter((path) => path.startsWith('/files/'))).toHaveLength(1);
  }, 180_000);

  it('is refused at create by the API when the project lists nothing', async () => {
    const tar = await buildTar([{ name: 'main.py', data: Buffer.from('print(1)\n') }]);
    const form = new FormData();
    form.append('archive', new File([new Uint8Array(tar)], 'bare.tar'));
    const project = await owner.trpc.projects.upload.mutate(form);
    await expect(
      owner.trpc.runs.create.mutate({
        kind: 'tool',
        toolId: 'python',
        projectId: project.id,
        environment: 'project',
      }),
    ).rejects.toThrow(/has none at its root/);
  });
});
