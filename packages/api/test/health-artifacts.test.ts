import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { ownerClient, rejectionOf, runboxDetailsOf, type TestClient } from './support/clients.ts';
import { storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { fullOutput, outputLines } from './support/subscriptions.ts';

/** Health and readiness, the catalog, and the files a run leaves behind. */

let server: TestServer;
let owner: TestClient;

beforeAll(async () => {
  server = await startTestServer('health');
  owner = await ownerClient(server.url);
});
afterAll(async () => {
  await owner?.close();
  await server?.stop();
});

describe('health', () => {
  it('/healthz answers 200 ok, without setting a cookie', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('set-cookie')).toBeNull();
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz answers 200 with every check passing', async () => {
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      ready: boolean;
      checks: { name: string; ok: boolean; detail: string }[];
    };
    expect(body.ready).toBe(true);
    expect(body.checks.map((check) => [check.name, check.ok])).toEqual([
      ['store', true],
      ['sandbox', true],
      ['queue', true],
      ['executor', true],
    ]);
    // The health procedure tells the same.
    const viaTrpc = await owner.trpc.health.query();
    expect(viaTrpc.ready).toBe(true);
    expect(viaTrpc.checks.map((check) => check.name)).toEqual(body.checks.map((c) => c.name));
  });

  it('any other path under /api/ is a JSON 404', async () => {
    const response = await fetch(`${server.url}/api/nothing-here`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'no such endpoint /api/nothing-here' });
    const procedure = await fetch(`${server.url}/api/trpc/runs.nothing`);
    expect(procedure.status).toBe(404);
  });

  it('loadConfig takes PORT=0 (any free port), as tests and embedders use it', () => {
    expect(loadConfig({ PORT: '0', RUNBOX_ADMIN_TOKEN: 'x'.repeat(24) }).port).toBe(0);
  });
});

describe('catalog', () => {
  it('tools.list has python available; examples.list has hello-python', async () => {
    const tools = await owner.trpc.tools.list.query();
    expect(tools.find((tool) => tool.id === 'python')).toMatchObject({
      id: 'python',
      available: true,
      reason: null,
    });
    const examples = await owner.trpc.examples.list.query();
    const hello = examples.find((example) => example.id === 'hello-python');
    expect(hello).toMatchObject({ id: 'hello-python', tool: 'python' });
  });

  it('limits.get gives the defaults and the range create enforces, field by field', async () => {
    const limits = await owner.trpc.limits.get.query();
    expect(limits.defaults).toMatchObject({ wallTimeMs: 30_000, memoryBytes: 512 * 2 ** 20 });
    expect(limits.maxOutputLines).toBe(100_000);
    for (const field of ['wallTimeMs', 'memoryBytes', 'outputBytes'] as const) {
      const { [field]: min } = limits.minimums;
      const { [field]: max } = limits.maximums;
      expect(min).toBeLessThanOrEqual(limits.defaults[field]);
      expect(max).toBeGreaterThanOrEqual(limits.defaults[field]);
      for (const value of [min - 1, max + 1]) {
        const refused = await rejectionOf(
          owner.trpc.runs.create.mutate({
            kind: 'snippet',
            language: 'bash',
            code: 'echo 1\n',
            limits: { [field]: value },
          }),
        );
        expect(runboxDetailsOf(refused)).toEqual({ code: 'LIMIT_OUT_OF_RANGE', field, min, max });
      }
    }
  });

  it('an example runs with its tool', async () => {
    const run = await owner.trpc.runs.create.mutate({
      kind: 'tool',
      toolId: 'python',
      exampleId: 'hello-python',
    });
    expect(run).toMatchObject({
      kind: 'tool',
      toolId: 'python',
      projectId: null,
      exampleId: 'hello-python',
    });
    const events = await fullOutput(owner.trpc, run.id);
    expect(events.at(-1)).toMatchObject({ type: 'end', result: { state: 'completed' } });
    expect(outputLines(events).length).toBeGreaterThan(0);
    // Listed and read back later, it still names its example (for "run again").
    expect((await owner.trpc.runs.get.query({ id: run.id })).exampleId).toBe('hello-python');
    const listed = await owner.trpc.runs.list.query({});
    expect(listed.runs.find((r) => r.id === run.id)?.exampleId).toBe('hello-python');
  });
});

describe('artifacts', () => {
  const content = 'hello artifact\n';
  let runId: string;

  beforeAll(async () => {
    const run = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: [
        'import os',
        `open("out.txt", "w").write(${JSON.stringify(content)})`,
        'os.makedirs("sub dir", exist_ok=True)',
        'open("sub dir/data.json", "w").write("{}")',
        'os.symlink("/etc/passwd", "passwd-link")',
        'print("wrote")',
      ].join('\n'),
    });
    runId = run.id;
    await fullOutput(owner.trpc, runId);
    expect((await storedEnd(owner.trpc, runId)).state).toBe('completed');
  });

  function download(path: string, cookie = owner.cookie ?? ''): Promise<Response> {
    return fetch(`${server.url}/api/runs/${runId}/artifacts/${path}`, { headers: { cookie } });
  }

  it('runs.artifacts lists the files and the link, the link as a link', async () => {
    const artifacts = await owner.trpc.runs.artifacts.query({ id: runId });
    expect(artifacts).toEqual([
      {
        path: 'out.txt',
        kind: 'file',
        size: content.length,
        sha256: createHash('sha256').update(content).digest('hex'),
        mediaType: 'text/plain',
      },
      {
        path: 'passwd-link',
        kind: 'symlink',
        size: 0,
        sha256: null,
        mediaType: 'inode/symlink',
        linkTarget: '/etc/passwd',
      },
      {
        path: 'sub dir/data.json',
        kind: 'file',
        size: 2,
        sha256: createHash('sha256').update('{}').digest('hex'),
        mediaType: 'application/json',
      },
    ]);
  });

  it('GET /api/runs/<id>/artifacts/out.txt returns its bytes as an attachment', async () => {
    const response = await download('out.txt');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(content);
    expect(response.headers.get('content-disposition')).toBe(
      "attachment; filename*=UTF-8''out.txt",
    );
    expect(response.headers.get('content-type')).toBe('application/octet-stream');
    expect(response.headers.get('content-length')).toBe(String(content.length));
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-runbox-sha256')).toBe(
      createHash('sha256').update(content).digest('hex'),
    );
  });

  it('a file in a directory with a space downloads by its encoded path', async () => {
    const response = await download('sub%20dir/data.json');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('{}');
    expect(response.headers.get('content-disposition')).toBe(
      "attachment; filename*=UTF-8''data.json",
    );
  });

  it('the planted symlink is not downloadable, nor is anything outside the run', async () => {
    const link = await download('passwd-link');
    expect(link.status).toBe(404);
    expect(await link.text()).not.toContain('root:');
    for (const path of [
      '..%2F..%2F..%2Fetc%2Fpasswd',
      '%2Fetc%2Fpasswd',
      'sub%20dir%2F..%2F..%2Fout.txt',
      'missing.txt',
      '%E0%A4%A',
    ]) {
      const response = await download(path);
      expect([400, 404]).toContain(response.status);
      expect(await response.text()).not.toContain('root:');
    }
  });
});
