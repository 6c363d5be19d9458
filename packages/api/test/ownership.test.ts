import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  codeOf,
  makeClient,
  ownerClient,
  ownerIdOf,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { rawQuery } from './support/http.ts';
import { storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { fullOutput, subscriptionError } from './support/subscriptions.ts';
import { buildTar } from '../src/uploads/test-support/build-tar.ts';

/** Owner B cannot see, follow, cancel or download anything of owner A's: it does not exist for B. */

let server: TestServer;
let ownerA: TestClient;
let ownerB: TestClient;
let admin: TestClient;
let runId: string;
let projectId: string;

beforeAll(async () => {
  server = await startTestServer('ownership');
  ownerA = await ownerClient(server.url);
  ownerB = await ownerClient(server.url);
  admin = adminClient(server.url);
  const run = await ownerA.trpc.runs.create.mutate({
    kind: 'snippet',
    language: 'python',
    code: 'open("secret.txt", "w").write("only for A")\nprint("A was here")\n',
  });
  runId = run.id;
  await fullOutput(ownerA.trpc, runId);
  await storedEnd(ownerA.trpc, runId);
  const form = new FormData();
  form.append(
    'archive',
    new File(
      [new Uint8Array(await buildTar([{ name: 'main.py', data: Buffer.from('print(1)\n') }]))],
      'a.tar',
    ),
  );
  projectId = (await ownerA.trpc.projects.upload.mutate(form)).id;
});
afterAll(async () => {
  for (const client of [ownerA, ownerB, admin]) await client?.close();
  await server?.stop();
});

/** What B gets for A's run must be what anyone gets for a run that does not exist. */
async function expectNotFound(call: Promise<unknown>, id: string): Promise<void> {
  const error = await rejectionOf(call);
  expect(codeOf(error)).toBe('NOT_FOUND');
  expect(error.data?.httpStatus).toBe(404);
  expect(runboxDetailsOf(error)).toEqual({ code: 'NOT_FOUND' });
  expect(error.message).toBe(`no ${id === projectId ? 'project' : 'run'} "${id}"`);
}

describe("another owner's run, over HTTP", () => {
  it('A sees it', async () => {
    expect((await ownerA.trpc.runs.get.query({ id: runId })).state).toBe('completed');
    expect((await ownerA.trpc.runs.artifacts.query({ id: runId })).map((a) => a.path)).toEqual([
      'secret.txt',
    ]);
  });

  it('runs.get, runs.artifacts and runs.cancel by B are NOT_FOUND, like a run that does not exist', async () => {
    await expectNotFound(ownerB.trpc.runs.get.query({ id: runId }), runId);
    await expectNotFound(ownerB.trpc.runs.artifacts.query({ id: runId }), runId);
    await expectNotFound(ownerB.trpc.runs.cancel.mutate({ id: runId }), runId);
    const missing = '00000000-0000-4000-8000-000000000000';
    await expectNotFound(ownerB.trpc.runs.get.query({ id: missing }), missing);
  });

  it("runs.list of B does not include A's run", async () => {
    const listB = await ownerB.trpc.runs.list.query({});
    expect(listB.runs.map((run) => run.id)).not.toContain(runId);
    expect((await ownerA.trpc.runs.list.query({})).runs.map((run) => run.id)).toContain(runId);
  });

  it("the artifact download of A's run is a 404 for B and for a stranger, a 200 for A", async () => {
    const path = `/api/runs/${runId}/artifacts/secret.txt`;
    const forA = await fetch(`${server.url}${path}`, { headers: { cookie: ownerA.cookie ?? '' } });
    expect(forA.status).toBe(200);
    expect(await forA.text()).toBe('only for A');
    const forB = await fetch(`${server.url}${path}`, { headers: { cookie: ownerB.cookie ?? '' } });
    expect(forB.status).toBe(404);
    expect(await forB.text()).not.toContain('only for A');
    const stranger = await fetch(`${server.url}${path}`);
    expect(stranger.status).toBe(404);
  });

  it("A's project is NOT_FOUND for B, and B cannot run a tool on it", async () => {
    await expectNotFound(ownerB.trpc.projects.get.query({ id: projectId }), projectId);
    await expectNotFound(ownerB.trpc.projects.files.query({ id: projectId }), projectId);
    await expectNotFound(
      ownerB.trpc.runs.create.mutate({ kind: 'tool', toolId: 'python', projectId }),
      projectId,
    );
    expect(await ownerB.trpc.projects.list.query()).toEqual([]);
  });

  it('runs.onOutput over HTTP (server-sent events) by B is NOT_FOUND', async () => {
    const answer = await rawQuery(server.url, 'runs.onOutput', JSON.stringify({ id: runId }), {
      cookie: ownerB.cookie ?? '',
    });
    expect(answer.text).not.toContain('A was here');
    // tRPC streams subscriptions over HTTP as SSE: the error comes as a serialized-error event.
    const error = /event: serialized-error\ndata: (.*)\n/.exec(answer.text)?.[1];
    expect(error).toBeDefined();
    expect(JSON.parse(error ?? '{}')).toMatchObject({ data: { code: 'NOT_FOUND' } });
  });

  it('the admin sees it', async () => {
    const run = await admin.trpc.runs.get.query({ id: runId });
    expect(run.state).toBe('completed');
    expect(run.owner).toBe(ownerIdOf(ownerA.cookie));
  });
});

describe("another owner's run, over the WebSocket", () => {
  it('runs.onOutput by B is NOT_FOUND and carries none of its output', async () => {
    const error = await subscriptionError((handlers) =>
      ownerB.trpc.runs.onOutput.subscribe({ id: runId }, handlers),
    );
    expect(error.message).toBe(`no run "${runId}"`);
    expect(codeOf(error)).toBe('NOT_FOUND');
  });

  it('runs.onOutput resumed with a lastEventId by B is NOT_FOUND too', async () => {
    const error = await subscriptionError((handlers) =>
      ownerB.trpc.runs.onOutput.subscribe({ id: runId, lastEventId: '1' }, handlers),
    );
    expect(codeOf(error)).toBe('NOT_FOUND');
  });

  it('runs.onStatus by B is NOT_FOUND', async () => {
    const error = await subscriptionError((handlers) =>
      ownerB.trpc.runs.onStatus.subscribe({ id: runId }, handlers),
    );
    expect(codeOf(error)).toBe('NOT_FOUND');
  });

  it('a socket with no owner cookie gets UNAUTHORIZED, not the run', async () => {
    const anonymous = makeClient(server.url, { cookie: null });
    try {
      const error = await subscriptionError((handlers) =>
        anonymous.trpc.runs.onOutput.subscribe({ id: runId }, handlers),
      );
      expect(codeOf(error)).toBe('UNAUTHORIZED');
      expect(runboxDetailsOf(error)).toEqual({ code: 'OWNER_REQUIRED' });
    } finally {
      await anonymous.close();
    }
  });

  it('A follows its own run over the WebSocket', async () => {
    const events = await fullOutput(ownerA.trpc, runId);
    expect(events.at(-1)).toMatchObject({ type: 'end', result: { state: 'completed' } });
  });
});
