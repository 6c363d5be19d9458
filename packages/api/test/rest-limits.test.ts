import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunOutputView } from '../src/rest/run-output-view.ts';
import type { RunView } from '../src/schemas/run-views.ts';
import { makeClient, rejectionOf, runboxDetailsOf } from './support/clients.ts';
import { eventually } from './support/runs.ts';
import { ADMIN_TOKEN, type TestServer } from './support/server.ts';
import { errorOf, eventsOf, KEYED, readSse, rest, startRestServer } from './rest-support.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * A server with anonymous use off, no wait at all (RUNBOX_REST_WAIT_MAX_MS=0), a 4 KiB output cap,
 * quick heartbeats and two open streams a client: credentials, 202, truncation, held places.
 */

let server: TestServer;

beforeAll(async () => {
  server = await startRestServer('rest-limits', claimTestUid(64_900, 100), {
    RUNBOX_ANONYMOUS: 'off',
    RUNBOX_REST_WAIT_MAX_MS: '0',
    RUNBOX_REST_OUTPUT_MAX_BYTES: '4096',
    RUNBOX_REST_SSE_HEARTBEAT_MS: '200',
    RUNBOX_WS_MAX_SOCKETS_PER_CLIENT: '2',
  });
});
afterAll(async () => server?.stop());

const sleeper = { kind: 'snippet', language: 'bash', code: 'echo awake; sleep 30\n' };

async function ended(id: string): Promise<RunOutputView> {
  return eventually(async () => {
    const reply = await rest(server.url, 'GET', `/runs/${id}/output`, { headers: KEYED });
    const output = reply.json as RunOutputView;
    return output.ended ? output : undefined;
  }, `run ${id} to end`);
}

describe('credentials are explicit', () => {
  it('an unknown API key is 401, on public calls too, never an owner', async () => {
    for (const [method, path] of [
      ['GET', '/tools'],
      ['GET', '/runs'],
      ['POST', '/runs'],
    ] as const) {
      const reply = await rest(server.url, method, path, {
        headers: { authorization: 'Bearer not-a-key-of-this-server-000' },
        ...(method === 'POST' ? { body: sleeper } : {}),
      });
      expect(reply.status).toBe(401);
      expect(reply.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(reply.headers.get('set-cookie')).toBeNull();
      expect(errorOf(reply)).toMatchObject({ code: 'OWNER_REQUIRED' });
      expect(String(errorOf(reply).message)).toMatch(/not an API key of this server/);
    }
    const basic = await rest(server.url, 'GET', '/tools', {
      headers: { authorization: 'Basic dXNlcjpwYXNz' },
    });
    expect(basic.status).toBe(401);
    const admin = await rest(server.url, 'GET', '/admin/queue', {
      headers: { 'x-runbox-admin-token': 'wrong-admin-token-0123456789' },
    });
    expect(admin.status).toBe(401);
    expect(errorOf(admin)).toMatchObject({ code: 'ADMIN_REQUIRED' });
  });

  it('no credentials: public calls answer, owner calls are 401 naming what to send', async () => {
    expect((await rest(server.url, 'GET', '/tools')).status).toBe(200);
    const create = await rest(server.url, 'POST', '/runs', { body: sleeper });
    expect(create.status).toBe(401);
    expect(String(errorOf(create).message)).toMatch(/send an API key \(Authorization: Bearer/);
    expect((await rest(server.url, 'GET', '/runs')).status).toBe(401);
    // An API key's calls are no one's but the key's; the admin token's are the admin's.
    expect((await rest(server.url, 'GET', '/runs', { headers: KEYED })).status).toBe(200);
    const admin = await rest(server.url, 'GET', '/admin/queue', {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(admin.status).toBe(200);
  });

  it('tRPC refuses the same unknown key too (OWNER_REQUIRED, 401, naming the header)', async () => {
    const client = makeClient(server.url, {
      cookie: null,
      authorization: 'Bearer not-a-key-of-this-server-000',
    });
    try {
      const error = await rejectionOf(client.trpc.runs.list.query({}));
      expect(error.data?.httpStatus).toBe(401);
      expect(runboxDetailsOf(error)).toEqual({
        code: 'OWNER_REQUIRED',
        field: 'authorization',
        rule: 'known-api-key',
      });
    } finally {
      await client.close();
    }
  });
});

describe('waits and caps', () => {
  it('past the wait cap answers 202 with the run in Location, and the output so far', async () => {
    const reply = await rest(server.url, 'POST', '/runs?wait=true', {
      body: { kind: 'snippet', language: 'bash', code: 'echo soon\n' },
      headers: KEYED,
    });
    expect(reply.status).toBe(202);
    const run = reply.json as RunOutputView;
    expect(run.ended).toBe(false);
    expect(reply.headers.get('location')).toBe(`/api/v1/runs/${run.id}`);
    const follow = await rest(server.url, 'GET', `/runs/${run.id}`, { headers: KEYED });
    expect(follow.status).toBe(200);
    expect((await ended(run.id)).stdout).toBe('soon\n');
  });

  it('cuts each stream at the cap, marks it and says how much there was', async () => {
    const reply = await rest(server.url, 'POST', '/runs', {
      body: {
        kind: 'snippet',
        language: 'python',
        code: 'import sys\nfor i in range(1000): print(f"{i:09d}")\nprint("short", file=sys.stderr)\n',
      },
      headers: KEYED,
    });
    const output = await ended((reply.json as RunView).id);
    expect(output.stdoutTruncated).toBe(true);
    expect(output.stdoutBytes).toBe(10_000);
    expect(Buffer.byteLength(output.stdout)).toBe(4096);
    expect(output.stdout.startsWith('000000000\n000000001\n')).toBe(true);
    expect(output.stderr).toBe('short\n');
    expect(output.stderrTruncated).toBe(false);
  });
});

describe('held-open calls', () => {
  it('send heartbeat comments while the run is quiet', async () => {
    const id = (
      (await rest(server.url, 'POST', '/runs', { body: sleeper, headers: KEYED })).json as RunView
    ).id;
    const reading = await readSse(server.url, `/runs/${id}/events`, {
      headers: KEYED,
      stop: (seen) =>
        eventsOf(seen).some((event) => event.type === 'output') &&
        seen.comments.filter((comment) => comment === 'heartbeat').length >= 2,
    });
    expect(reading.status).toBe(200);
    await rest(server.url, 'POST', `/runs/${id}/cancel`, { headers: KEYED });
  });

  it('take places of the client: past them 429 with Retry-After, free again once closed', async () => {
    const id = (
      (await rest(server.url, 'POST', '/runs', { body: sleeper, headers: KEYED })).json as RunView
    ).id;
    const streams = Array.from({ length: 2 }, () => {
      const controller = new AbortController();
      const response = fetch(`${server.url}/api/v1/runs/${id}/events`, {
        headers: KEYED,
        signal: controller.signal,
      });
      return { controller, response };
    });
    for (const stream of streams) expect((await stream.response).status).toBe(200);
    const third = await rest(server.url, 'GET', `/runs/${id}/events`, { headers: KEYED });
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(errorOf(third)).toMatchObject({
      code: 'TOO_MANY_REQUESTS',
      rule: 'maxSocketsPerClient',
    });
    const waiting = await rest(server.url, 'GET', `/runs/${id}/output?wait=true`, {
      headers: KEYED,
    });
    expect(waiting.status).toBe(429);
    streams[0]?.controller.abort();
    await eventually(async () => {
      const again = await readSse(server.url, `/runs/${id}/events`, {
        headers: KEYED,
        stop: () => true,
      });
      return again.status === 200 ? true : undefined;
    }, 'a place to come free');
    streams[1]?.controller.abort();
    await rest(server.url, 'POST', `/runs/${id}/cancel`, { headers: KEYED });
  });
});
