import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  adminClient,
  codeOf,
  makeClient,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { rawPost, trpcErrorOf } from './support/http.ts';
import { storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { fullOutput, outputLines, subscriptionError } from './support/subscriptions.ts';
import { loadOwnerCookieKey } from '../src/owner-cookie-key.ts';
import { createOwnerCookies } from '../src/owner-cookie.ts';

/**
 * RUNBOX_ANONYMOUS=off: only API keys and the admin token may create runs, upload or subscribe.
 * Anonymous calls get UNAUTHORIZED saying an API key is needed; pages and public calls still work.
 */

const KEY = 'ci-key-0123456789abcdefghij';
let server: TestServer;
const clients: TestClient[] = [];

beforeAll(async () => {
  server = await startTestServer('anonymous-off', {
    RUNBOX_ANONYMOUS: 'off',
    RUNBOX_API_KEYS: `ci:${KEY}`,
  });
});
afterAll(async () => {
  for (const client of clients) await client.close();
  await server?.stop();
});

function client(options: Parameters<typeof makeClient>[1]): TestClient {
  const made = makeClient(server.url, options);
  clients.push(made);
  return made;
}

const snippet = { kind: 'snippet', language: 'bash', code: 'echo keyed\n' } as const;
const API_KEY_NEEDED =
  'this server takes no anonymous calls: send an API key (Authorization: Bearer <key>; over the WebSocket, connectionParams.authorization)';

describe('anonymous use off', () => {
  it('the page still loads, without an owner cookie; public calls answer', async () => {
    const page = await fetch(`${server.url}/`);
    expect(page.status).toBe(200);
    await page.arrayBuffer();
    expect(page.headers.get('set-cookie')).toBeNull();
    const anonymous = client({ cookie: null });
    expect((await anonymous.trpc.tools.list.query()).length).toBeGreaterThan(0);
  });

  it('anonymous creates, uploads and lists are UNAUTHORIZED, saying an API key is needed', async () => {
    // A cookie this server signed itself (as when anonymous use was on) does not help.
    const signed = createOwnerCookies(await loadOwnerCookieKey(server.dataDir))
      .mint({ secure: false })
      .setCookie.split(';')[0];
    for (const cookie of [null, signed ?? null]) {
      const anonymous = client({ cookie });
      const create = await rejectionOf(anonymous.trpc.runs.create.mutate(snippet));
      expect(codeOf(create)).toBe('UNAUTHORIZED');
      expect(create.data?.httpStatus).toBe(401);
      expect(create.message).toBe(API_KEY_NEEDED);
      expect(runboxDetailsOf(create)).toEqual({ code: 'OWNER_REQUIRED' });
      expect(codeOf(await rejectionOf(anonymous.trpc.runs.list.query({})))).toBe('UNAUTHORIZED');
    }
    const form = new FormData();
    form.append('files', new File(['print(1)\n'], 'main.py'));
    form.append('paths', JSON.stringify(['main.py']));
    const upload = await rawPost(server.url, 'projects.upload', form, { origin: server.url });
    expect(upload.status).toBe(401);
    expect(trpcErrorOf(upload.json)).toMatchObject({
      code: 'UNAUTHORIZED',
      message: API_KEY_NEEDED,
    });
  });

  it('an anonymous subscription is UNAUTHORIZED, saying an API key is needed', async () => {
    const keyed = client({ cookie: null, authorization: `Bearer ${KEY}` });
    const run = await keyed.trpc.runs.create.mutate(snippet);
    await storedEnd(keyed.trpc, run.id);
    const anonymous = client({ cookie: null });
    const error = await subscriptionError((handlers) =>
      anonymous.trpc.runs.onOutput.subscribe({ id: run.id }, handlers),
    );
    expect(codeOf(error)).toBe('UNAUTHORIZED');
    expect(error.message).toBe(API_KEY_NEEDED);
  });

  it('an API key creates, follows and uploads; so does the admin', async () => {
    const keyed = client({ cookie: null, authorization: `Bearer ${KEY}` });
    const run = await keyed.trpc.runs.create.mutate(snippet);
    expect(outputLines(await fullOutput(keyed.trpc, run.id))).toEqual(['keyed']);
    const form = new FormData();
    form.append('files', new File(['print(1)\n'], 'main.py'));
    form.append('paths', JSON.stringify(['main.py']));
    expect((await keyed.trpc.projects.upload.mutate(form)).fileCount).toBe(1);
    const admin = adminClient(server.url);
    clients.push(admin);
    const adminRun = await admin.trpc.runs.create.mutate(snippet);
    expect((await storedEnd(admin.trpc, adminRun.id)).state).toBe('completed');
    expect((await admin.trpc.runs.get.query({ id: run.id })).owner).toBe('key:ci');
  });
});
