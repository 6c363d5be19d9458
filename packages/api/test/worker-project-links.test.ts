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
import { buildTar } from '../src/uploads/test-support/build-tar.ts';
import { makeClient, newOwnerCookie, type TestClient } from './support/clients.ts';
import { removeCgroupGroup, testSandboxUid } from './support/server.ts';
import { startServerProcess, type ServerProcess } from './support/subprocess.ts';
import { fullOutput, outputLines } from './support/subscriptions.ts';

/**
 * A project's links on the worker path: the API (RUNBOX_ROLE=api) stores an upload with its
 * links, a worker process fetches it by digest (the bundle carries the links as links, its cache
 * gives the tree to its sandbox user) and runs the tool on it through a layer. What the run
 * writes stays in its own workspace: the next run on the same cached project sees it as stored.
 */

const WORKER_TOKEN = 'test-worker-token-links-0123456789';
const tempDirs: string[] = [];
let cgroupGroup: string;
let redis: TestRedis;
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
  const dataDir = await mkdtemp(join(tmpdir(), 'runbox-api-links-data-'));
  const sandboxDir = await mkdtemp(join(tmpdir(), 'runbox-api-links-sandbox-'));
  tempDirs.push(dataDir, sandboxDir);
  cgroupGroup = `runbox-api-test-links-${randomBytes(3).toString('hex')}`;
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
    },
  });
  worker = await startWorkerProcess({
    redisUrl: redis.url,
    name: 'links',
    env: { RUNBOX_API_URL: server.url, RUNBOX_WORKER_TOKEN: WORKER_TOKEN },
  });
  owner = makeClient(server.url, { cookie: await newOwnerCookie(server.url) });
}, 60_000);

afterAll(async () => {
  await owner?.close();
  await worker?.terminate();
  await worker?.cleanUp();
  if (server && server.child.exitCode === null) await server.terminate();
  await redis?.stop();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  if (cgroupGroup) await removeCgroupGroup(cgroupGroup);
});

describe('a project with links, run on a worker', () => {
  it('keeps its links through the bundle and the cache; runs write only their own layer', async () => {
    const script = [
      'echo "claude: $(cat CLAUDE.md)"',
      'echo "link: $(readlink docs/up)"',
      'echo "state: $(cat state.txt)"',
      "grep ' /workspace ' /proc/self/mountinfo | sed 's/.* - \\([^ ]*\\) .*/fs: \\1/'",
      'echo changed > state.txt',
      'rm AGENTS.md',
    ].join('\n');
    const tar = await buildTar([
      { name: 'run.sh', data: Buffer.from(`${script}\n`) },
      { name: 'AGENTS.md', data: Buffer.from('be kind') },
      { name: 'state.txt', data: Buffer.from('stored') },
      { name: 'CLAUDE.md', type: 'symlink', linkname: 'AGENTS.md' },
      { name: 'docs/', type: 'directory' },
      { name: 'docs/up', type: 'symlink', linkname: '../AGENTS.md' },
    ]);
    const form = new FormData();
    form.append('archive', new File([new Uint8Array(tar)], 'links.tar'));
    const project = await owner.trpc.projects.upload.mutate(form);
    expect(project.links).toHaveLength(2);

    for (const round of [1, 2]) {
      const run = await owner.trpc.runs.create.mutate({
        kind: 'tool',
        toolId: 'bash',
        projectId: project.id,
      });
      const events = await fullOutput(owner.trpc, run.id);
      const result = endOf(events);
      expect(result.state, `round ${round}`).toBe('completed');
      const lines = outputLines(events);
      expect(lines.slice(0, 3), `round ${round}`).toEqual([
        'claude: be kind',
        'link: ../AGENTS.md',
        'state: stored',
      ]);
      if (process.getuid?.() === 0) expect(lines[3]).toBe('fs: overlay');
      expect(result.artifacts.map((artifact) => artifact.path)).toEqual(['state.txt']);
    }
  });
});
