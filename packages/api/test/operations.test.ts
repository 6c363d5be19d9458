import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRunbox } from '../src/boot.ts';
import { loadConfig } from '../src/config.ts';
import { openStore } from '../src/store/index.ts';
import { adminClient, codeOf, ownerClient, rejectionOf } from './support/clients.ts';
import { storedEnd } from './support/runs.ts';
import {
  ADMIN_TOKEN,
  EXAMPLES_DIR,
  REPO_ROOT,
  removeCgroupGroup,
  startTestServer,
  testSandboxUid,
  type TestServer,
} from './support/server.ts';
import { startServerProcess } from './support/subprocess.ts';

describe('/readyz reflects a broken sandbox', () => {
  let server: TestServer;
  beforeAll(async () => {
    // This machine's cgroup v2 mount has no controllers: forcing v2 leaves runs without limits.
    server = await startTestServer('ops-broken', { RUNBOX_CGROUP: 'v2' });
  });
  afterAll(async () => server.stop());

  it('answers 503 naming the failed layers, and refuses runs', async () => {
    const answer = await fetch(`${server.url}/readyz`);
    expect(answer.status).toBe(503);
    const body = (await answer.json()) as {
      ready: boolean;
      checks: { name: string; ok: boolean; detail: string }[];
    };
    expect(body.ready).toBe(false);
    const sandbox = body.checks.find((check) => check.name === 'sandbox');
    expect(sandbox?.ok).toBe(false);
    expect(sandbox?.detail).toMatch(/cgroup memory .*no usable cgroup/);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const client = await ownerClient(server.url);
    try {
      const error = await rejectionOf(
        client.trpc.runs.create.mutate({ kind: 'snippet', language: 'bash', code: 'echo hi' }),
      );
      expect(codeOf(error)).toBe('SERVICE_UNAVAILABLE');
      expect(error.message).toMatch(/refusing to run untrusted code/);
    } finally {
      await client.close();
    }
  });
});

describe('/metrics', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('ops-metrics', {
      RUNBOX_METRICS_TOKEN: 'metrics-token-0123456789',
    });
  });
  afterAll(async () => server.stop());

  async function metric(name: string): Promise<number> {
    const text = await (
      await fetch(`${server.url}/metrics`, {
        headers: { authorization: 'Bearer metrics-token-0123456789' },
      })
    ).text();
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : 0;
  }

  it('needs a token', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect(
      (await fetch(`${server.url}/metrics`, { headers: { 'x-runbox-admin-token': ADMIN_TOKEN } }))
        .status,
    ).toBe(200);
  });

  it('moves after runs of each end state', async () => {
    const admin = adminClient(server.url);
    try {
      const runs = {
        completed: { language: 'bash', code: 'echo ok' },
        failed: { language: 'bash', code: 'exit 3' },
        timed_out: { language: 'bash', code: 'sleep 10', limits: { wallTimeMs: 1_000 } },
        memory_limit: {
          language: 'python',
          code: 'a = []\nwhile True:\n    a.append(bytearray(4 << 20))',
          limits: { memoryBytes: 64 << 20 },
        },
        output_limit: {
          language: 'python',
          code: 'print("x" * 3_000_000)',
          limits: { outputBytes: 100_000 },
        },
      } as const;
      for (const [state, snippet] of Object.entries(runs)) {
        const run = await admin.trpc.runs.create.mutate({ kind: 'snippet', ...snippet });
        expect((await storedEnd(admin.trpc, run.id)).state).toBe(state);
      }
      const long = await admin.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: 'sleep 10',
      });
      // Cancelled once its program runs: a run cancelled before that has no duration to count.
      while ((await admin.trpc.runs.get.query({ id: long.id })).state !== 'running')
        await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 500));
      await admin.trpc.runs.cancel.mutate({ id: long.id });
      expect((await storedEnd(admin.trpc, long.id)).state).toBe('cancelled');
      for (const state of [...Object.keys(runs), 'cancelled']) {
        expect(await metric(`runbox_runs_total{state="${state}"}`), state).toBe(1);
      }
      expect(await metric('runbox_run_duration_seconds_count')).toBe(6);
      expect(await metric('runbox_output_bytes_total{stream="stdout"}')).toBeGreaterThan(100_000);
      expect(await metric('runbox_queue_length')).toBe(0);
    } finally {
      await admin.close();
    }
  });

  it("counts the syntax checkers' answers per language", async () => {
    const series = 'runbox_syntax_checks_answered{language="python"}';
    const before = await metric(series);
    const admin = adminClient(server.url);
    try {
      const run = await admin.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'python',
        code: 'print(1)',
      });
      await storedEnd(admin.trpc, run.id);
    } finally {
      await admin.close();
    }
    expect(await metric(series)).toBe(before + 1);
    expect(await metric('runbox_syntax_checkers_live{language="python"}')).toBeGreaterThanOrEqual(
      1,
    );
  });
});

describe('logs', () => {
  it('carry runId, owner and tool on every line of a run', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'runbox-api-logs-data-'));
    const sandboxDir = await mkdtemp(join(tmpdir(), 'runbox-api-logs-sandbox-'));
    const config = loadConfig(
      {
        HOST: '127.0.0.1',
        PORT: '0',
        RUNBOX_DATA_DIR: dataDir,
        RUNBOX_SANDBOX_DIR: sandboxDir,
        RUNBOX_ADMIN_TOKEN: ADMIN_TOKEN,
        RUNBOX_WEB: 'none',
        RUNBOX_SANDBOX_UID: String(testSandboxUid()),
        RUNBOX_EXAMPLES_DIR: EXAMPLES_DIR,
      },
      REPO_ROOT,
    );
    const group = `runbox-api-test-logs-${randomBytes(3).toString('hex')}`;
    config.executor.host.cgroupGroupName = group;
    const lines: Record<string, unknown>[] = [];
    const logger = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
    );
    const runbox = await startRunbox(config, { log: logger });
    const admin = adminClient(runbox.url);
    try {
      const run = await admin.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'python',
        code: 'print(1)',
      });
      await storedEnd(admin.trpc, run.id);
      const ofRun = lines.filter((line) => line.runId === run.id);
      expect(ofRun.map((line) => line.state)).toEqual(['queued', 'running', 'completed']);
      for (const line of ofRun) expect(line).toMatchObject({ owner: 'admin', tool: 'python' });
    } finally {
      await admin.close();
      await runbox.stop();
      await removeCgroupGroup(group);
      await rm(dataDir, { recursive: true, force: true });
      await rm(sandboxDir, { recursive: true, force: true });
    }
  });
});

describe('SIGTERM', () => {
  it('lets short runs finish, interrupts the rest at the deadline, stores every state, exits 0', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'runbox-api-sigterm-data-'));
    const sandboxDir = await mkdtemp(join(tmpdir(), 'runbox-api-sigterm-sandbox-'));
    const group = `runbox-api-test-sigterm-${randomBytes(3).toString('hex')}`;
    const server = await startServerProcess({
      dataDir,
      sandboxDir,
      sandboxUid: testSandboxUid(),
      cgroupGroup: group,
      env: { RUNBOX_SHUTDOWN_DEADLINE_MS: '1500', RUNBOX_CONCURRENCY: '2' },
    });
    const admin = adminClient(server.url);
    try {
      const short = await admin.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: 'sleep 0.5; echo short done',
      });
      const long = await admin.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: 'echo started; sleep 60',
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const exit = await server.terminate();
      expect(exit.code).toBe(0);
      const store = openStore({ dataDir });
      try {
        expect(store.getRun(short.id)?.state).toBe('completed');
        expect(store.getRun(long.id)?.state).toBe('interrupted');
        for (const id of [short.id, long.id]) {
          const events = store.readEvents(id, 0, 1_000);
          expect(events.at(-1)?.type).toBe('end');
        }
      } finally {
        store.close();
      }
    } finally {
      await admin.close();
      if (server.child.exitCode === null) await server.kill();
      await removeCgroupGroup(group);
      await rm(dataDir, { recursive: true, force: true });
      await rm(sandboxDir, { recursive: true, force: true });
    }
  });
});
