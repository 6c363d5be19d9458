import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  codeOf,
  makeClient,
  newOwnerCookie,
  ownerIdOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { rawPost, rawQuery, type RawAnswer } from './support/http.ts';
import { storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { fullOutput, subscriptionError } from './support/subscriptions.ts';

/**
 * Owner cookies are signed by the server: a client keeps the owner it was given, across restarts,
 * but cannot make one up. A cookie the server did not sign is never honoured: the answer carries a
 * new signed owner in its place, and the made-up id never owns anything.
 */

let server: TestServer;
let admin: TestClient;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer('cookies');
  admin = adminClient(server.url);
});
afterAll(async () => {
  for (const client of [admin, ...clients]) await client?.close();
  await server?.stop();
});

const FORGED_ID = 'ForgedOwnerId0123456789A';
const quick = JSON.stringify({ kind: 'snippet', language: 'bash', code: 'echo ok\n' });

/** The `runbox_owner=<id>.<signature>` cookie an answer sets; fails when it sets none. */
function signedCookieOf(answer: RawAnswer): string {
  const setCookie = answer.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(
    /^runbox_owner=[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly/,
  );
  return setCookie.split(';')[0] ?? '';
}

function runIdOf(answer: RawAnswer): string {
  return (answer.json as { result: { data: { id: string } } }).result.data.id;
}

async function listedRunIds(cookie: string): Promise<{ ids: string[]; setCookie: string | null }> {
  const answer = await rawQuery(server.url, 'runs.list', '{}', { cookie });
  expect(answer.status).toBe(200);
  const runs = (answer.json as { result: { data: { runs: { id: string }[] } } }).result.data.runs;
  return { ids: runs.map((run) => run.id), setCookie: answer.headers.get('set-cookie') };
}

describe('a cookie the server did not sign', () => {
  const forgeries: [string, string][] = [
    [
      'an unsigned owner id (what a cookie looked like before signing)',
      `runbox_owner=${FORGED_ID}`,
    ],
    ['an owner id with a made-up signature', `runbox_owner=${FORGED_ID}.${'x'.repeat(43)}`],
  ];
  for (const [what, forged] of forgeries) {
    it(`${what} is replaced by a new signed owner, and the made-up id owns nothing`, async () => {
      const answer = await rawPost(server.url, 'runs.create', quick, {
        cookie: forged,
        origin: server.url,
      });
      expect(answer.status).toBe(200);
      const cookie = signedCookieOf(answer);
      const owner = ownerIdOf(cookie);
      expect(owner).not.toBe(FORGED_ID);
      const runId = runIdOf(answer);
      expect((await storedEnd(admin.trpc, runId)).owner).toBe(owner);
      expect((await admin.trpc.admin.runs.query({ owner: FORGED_ID })).runs).toEqual([]);

      // The forged cookie again: another new owner, which does not see the run.
      const again = await listedRunIds(forged);
      expect(again.ids).toEqual([]);
      expect(again.setCookie).not.toBeNull();
      expect(ownerIdOf(again.setCookie?.split(';')[0] ?? null)).not.toBe(owner);
      // The cookie it was given works, and is kept (no new one).
      expect(await listedRunIds(cookie)).toEqual({ ids: [runId], setCookie: null });
    });
  }

  it('a signed cookie with one character of its signature or its id changed is replaced', async () => {
    const cookie = await newOwnerCookie(server.url);
    const owner = makeClient(server.url, { cookie });
    clients.push(owner);
    const run = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo mine\n',
    });
    await storedEnd(owner.trpc, run.id);
    const [id = '', signature = ''] = cookie.slice('runbox_owner='.length).split('.');
    const flip = (text: string, at: number): string =>
      `${text.slice(0, at)}${text[at] === 'Q' ? 'R' : 'Q'}${text.slice(at + 1)}`;
    const tampered = [
      `runbox_owner=${id}.${flip(signature, 20)}`,
      `runbox_owner=${id}.${flip(signature, signature.length - 1)}`,
      `runbox_owner=${flip(id, 3)}.${signature}`,
    ];
    for (const forged of tampered) {
      const answer = await listedRunIds(forged);
      expect(answer.ids, forged).toEqual([]);
      expect(answer.setCookie, forged).toMatch(/^runbox_owner=/);
      expect(ownerIdOf(answer.setCookie?.split(';')[0] ?? null)).not.toBe(id);
    }
    expect(await listedRunIds(cookie)).toEqual({ ids: [run.id], setCookie: null });
  });

  it('over the WebSocket, a forged cookie is no owner: UNAUTHORIZED, never the run', async () => {
    const cookie = await newOwnerCookie(server.url);
    const owner = makeClient(server.url, { cookie });
    clients.push(owner);
    const run = await owner.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo secret-line\n',
    });
    await fullOutput(owner.trpc, run.id);
    // The id of the real owner, with a signature made up: not that owner.
    const forged = makeClient(server.url, {
      cookie: `runbox_owner=${ownerIdOf(cookie)}.${'y'.repeat(43)}`,
    });
    clients.push(forged);
    const error = await subscriptionError((handlers) =>
      forged.trpc.runs.onOutput.subscribe({ id: run.id }, handlers),
    );
    expect(codeOf(error)).toBe('UNAUTHORIZED');
    expect(runboxDetailsOf(error)).toEqual({ code: 'OWNER_REQUIRED' });
  });
});

describe('a cookie the server signed', () => {
  it('survives a restart on the same data directory, whose key file only the server may read', async () => {
    const cookie = await newOwnerCookie(server.url);
    const before = makeClient(server.url, { cookie });
    const run = await before.trpc.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo before the restart\n',
    });
    await storedEnd(before.trpc, run.id);
    await before.close();
    const keyFile = join(server.dataDir, 'owner-cookie.key');
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);

    const { dataDir } = server;
    await admin.close();
    await server.stop({ keepData: true });
    server = await startTestServer('cookies-again', { RUNBOX_DATA_DIR: dataDir });
    admin = adminClient(server.url);

    expect(await listedRunIds(cookie)).toEqual({ ids: [run.id], setCookie: null });
    expect((await admin.trpc.runs.get.query({ id: run.id })).owner).toBe(ownerIdOf(cookie));
  });
});
