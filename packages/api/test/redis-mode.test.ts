import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRedis, type TestRedis } from '../../cluster/test/support/redis-server.ts';
import {
  startWorkerProcess,
  type WorkerProcess,
} from '../../cluster/test/support/worker-process.ts';
import { buildTar } from '../src/uploads/test-support/build-tar.ts';
import {
  adminClient,
  codeOf,
  makeClient,
  newOwnerCookie,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { endOf, oneToN, seqsOf, storedEnd } from './support/runs.ts';
import { removeCgroupGroup, testSandboxUid } from './support/server.ts';
import { startServerProcess, type ServerProcess } from './support/subprocess.ts';
import { fullOutput, outputLines } from './support/subscriptions.ts';

/**
 * The API and a worker apart, as deployed: the server process with RUNBOX_ROLE=api (no sandbox
 * runs in it), a worker process that reaches it only through Redis and the worker token (no
 * shared directory), a real Redis.
 */

const WORKER_TOKEN = 'test-worker-token-0123456789';
const tempDirs: string[] = [];
let cgroupGroup: string;
let serverOptions: Parameters<typeof startServerProcess>[0];
let redis: TestRedis;
let server: ServerProcess;
let worker: WorkerProcess;
let owner: TestClient;
let admin: TestClient;

beforeAll(async () => {
  redis = await startTestRedis();
  const dataDir = await mkdtemp(join(tmpdir(), 'runbox-api-redis-data-'));
  const sandboxDir = await mkdtemp(join(tmpdir(), 'runbox-api-redis-sandbox-'));
  tempDirs.push(dataDir, sandboxDir);
  cgroupGroup = `runbox-api-test-redis-${randomBytes(3).toString('hex')}`;
  serverOptions = {
    dataDir,
    sandboxDir,
    sandboxUid: testSandboxUid(),
    cgroupGroup,
    env: {
      RUNBOX_REDIS_URL: redis.url,
      RUNBOX_ROLE: 'api',
      RUNBOX_WORKER_TOKEN: WORKER_TOKEN,
      RUNBOX_WORKER_LEASE_MS: '2000',
    },
  };
  server = await startServerProcess(serverOptions);
  worker = await startWorkerProcess({
    redisUrl: redis.url,
    name: 'apart',
    env: { RUNBOX_API_URL: server.url, RUNBOX_WORKER_TOKEN: WORKER_TOKEN },
  });
  owner = makeClient(server.url, { cookie: await newOwnerCookie(server.url) });
  admin = adminClient(server.url);
}, 60_000);

afterAll(async () => {
  await owner?.close();
  await admin?.close();
  await worker?.terminate();
  await worker?.cleanUp();
  if (server && server.child.exitCode === null) await server.terminate();
  await redis?.stop();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  if (cgroupGroup) await removeCgroupGroup(cgroupGroup);
});

describe('RUNBOX_ROLE=api with a worker process on Redis', () => {
  it('runs a snippet on the worker; the client sees every line, numbered from 1', async () => {
    const run = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'for i in range(200):\n    print("line", i)\n',
    });
    const events = await fullOutput(owner.trpc, run.id);
    expect(endOf(events).state).toBe('completed');
    expect(outputLines(events)).toEqual(Array.from({ length: 200 }, (_, i) => `line ${i}`));
    expect(seqsOf(events)).toEqual(oneToN(events.length));
    expect((await storedEnd(owner.trpc, run.id)).state).toBe('completed');
  });

  it("runs a tool on an uploaded project the worker fetched by digest, and keeps the run's files", async () => {
    const form = new FormData();
    form.append(
      'archive',
      new File(
        [
          new Uint8Array(
            await buildTar([
              {
                name: 'main.py',
                data: Buffer.from(
                  'import json, os\n' +
                    'open("report.txt", "w").write("made on a worker\\n")\n' +
                    'os.makedirs(".runbox", exist_ok=True)\n' +
                    'json.dump({"answer": 42}, open(".runbox/result.json", "w"))\n' +
                    'print("project ran")\n',
                ),
              },
            ]),
          ),
        ],
        'project.tar',
      ),
    );
    const project = await owner.trpc.projects.upload.mutate(form);
    const run = await owner.trpc.runs.create.mutate({
      kind: 'tool',
      toolId: 'python',
      projectId: project.id,
    });
    const events = await fullOutput(owner.trpc, run.id);
    expect(endOf(events)).toMatchObject({ state: 'completed', value: { answer: 42 } });
    expect(outputLines(events)).toEqual(['project ran']);
    const artifacts = await owner.trpc.runs.artifacts.query({ id: run.id });
    const content = 'made on a worker\n';
    expect(artifacts).toEqual([
      {
        path: 'report.txt',
        kind: 'file',
        size: content.length,
        sha256: createHash('sha256').update(content).digest('hex'),
        mediaType: 'text/plain',
      },
    ]);
    const download = await fetch(`${server.url}/api/runs/${run.id}/artifacts/report.txt`, {
      headers: { cookie: owner.cookie ?? '' },
    });
    expect(await download.text()).toBe(content);
  });

  it('cancels a running run on the worker from the API', async () => {
    const run = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo up; sleep 60',
    });
    const ended = fullOutput(owner.trpc, run.id);
    for (
      let i = 0;
      i < 200 && (await owner.trpc.runs.get.query({ id: run.id })).state !== 'running';
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 25));
    await owner.trpc.runs.cancel.mutate({ id: run.id });
    expect(endOf(await ended).state).toBe('cancelled');
    // Killed by then; gone from the process table a moment later.
    for (let i = 0; i < 200 && worker.sandboxProcesses().length > 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(worker.sandboxProcesses()).toEqual([]);
  });

  it("holds an owner's runs at once across the worker, as the embedded engine does", async () => {
    const limit = (await admin.trpc.admin.rateLimits.query()).concurrentRunsPerOwner;
    const runs = [];
    for (let i = 0; i < limit; i++)
      runs.push(
        await owner.trpc.runs.create.mutate({ kind: 'snippet', language: 'bash', code: 'sleep 5' }),
      );
    const error = await rejectionOf(
      owner.trpc.runs.create.mutate({ kind: 'snippet', language: 'bash', code: 'echo one more' }),
    );
    expect(codeOf(error)).toBe('TOO_MANY_REQUESTS');
    expect(runboxDetailsOf(error)).toMatchObject({ limit: 'concurrentRunsPerOwner' });
    for (const run of runs) await owner.trpc.runs.cancel.mutate({ id: run.id });
    for (const run of runs) expect((await storedEnd(owner.trpc, run.id)).state).toBe('cancelled');
  });

  it('refuses the worker routes without the worker token', async () => {
    const answer = await fetch(`${server.url}/internal/v1/projects/sha256-${'0'.repeat(64)}`, {
      headers: { authorization: 'Bearer not-the-token-at-all' },
    });
    expect(answer.status).toBe(401);
  });

  for (const how of ['SIGTERM', 'SIGKILL'] as const) {
    it(`API restarted (${how}) while a worker runs: the run goes on, its events have no gap`, async () => {
      const cookie = owner.cookie ?? '';
      const run = await owner.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: 'for i in $(seq 1 60); do echo "tick $i"; sleep 0.05; done',
      });
      for (
        let i = 0;
        i < 200 && (await owner.trpc.runs.get.query({ id: run.id })).state !== 'running';
        i++
      )
        await new Promise((resolve) => setTimeout(resolve, 25));
      await owner.close();
      if (how === 'SIGTERM') await server.terminate();
      else await server.kill();
      server = await startServerProcess(serverOptions);
      owner = makeClient(server.url, { cookie });
      const events = await fullOutput(owner.trpc, run.id);
      expect(endOf(events).state).toBe('completed');
      expect(outputLines(events)).toEqual(Array.from({ length: 60 }, (_, i) => `tick ${i + 1}`));
      expect(seqsOf(events)).toEqual(oneToN(events.length));
      const states = events.flatMap((event) => (event.type === 'state' ? [event.state] : []));
      expect(states).toEqual(['queued', 'running', 'completed']);
    });
  }
});
