import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { lookup } from 'node:dns/promises';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyAddress } from '../src/callbacks/address-class.ts';
import {
  startReceiver,
  type Receiver,
  type ScriptedAnswer,
} from '../src/callbacks/test-support/receiver.ts';
import type { DeliveryView } from '../src/callbacks/delivery-views.ts';
import {
  adminClient,
  makeClient,
  ownerClient,
  rejectionOf,
  runboxDetailsOf,
  type Client,
  type TestClient,
} from './support/clients.ts';
import { eventually, storedEnd } from './support/runs.ts';
import { ADMIN_TOKEN, removeCgroupGroup } from './support/server.ts';
import { startServerProcess, type ServerProcess } from './support/subprocess.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * Signed callbacks end to end: real server processes, real sandboxed runs, a real HTTP receiver
 * on loopback (allowed by the operator setting on the first server, not on the second).
 */

const SERVER_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const KEY_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const API_KEY = randomBytes(18).toString('base64url');

const tempDirs: string[] = [];
const groups: string[] = [];
const servers: ServerProcess[] = [];
const clients: TestClient[] = [];
let receiver: Receiver;
/** The first server's heartbeat goes here (RUNBOX_HEARTBEAT_URL). */
let beats: Receiver | null = null;

/** A server process with its own dirs; uids 64930.. are this file's. */
async function startServer(
  name: string,
  uid: number,
  env: Record<string, string>,
): Promise<ServerProcess> {
  const dataDir = await mkdtemp(join(tmpdir(), `runbox-api-${name}-data-`));
  const sandboxDir = await mkdtemp(join(tmpdir(), `runbox-api-${name}-sandbox-`));
  const cgroupGroup = `runbox-api-test-${name}-${randomBytes(3).toString('hex')}`;
  tempDirs.push(dataDir, sandboxDir);
  groups.push(cgroupGroup);
  const server = await startServerProcess({
    dataDir,
    sandboxDir,
    sandboxUid: uid,
    cgroupGroup,
    env,
  });
  servers.push(server);
  return server;
}

function client(made: TestClient): Client {
  clients.push(made);
  return made.trpc;
}

afterAll(async () => {
  for (const made of clients) await made.close();
  for (const server of servers) await server.terminate().catch(() => {});
  await receiver?.close();
  await beats?.close();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  for (const group of groups) await removeCgroupGroup(group);
});

/** The run's only delivery once it left `pending`. */
async function settledDelivery(trpc: Client, runId: string): Promise<DeliveryView> {
  return eventually(
    async () => {
      const [delivery] = await trpc.runs.deliveries.query({ id: runId });
      return delivery && delivery.state !== 'pending' ? delivery : undefined;
    },
    `the callback of run ${runId} to settle`,
    30_000,
  );
}

function script(answers: ScriptedAnswer[]): void {
  receiver.script(answers);
  receiver.requests.length = 0;
}

const hookUrl = (path = '/hook'): string => `${receiver.url}${path}`;

describe('a server that allows callbacks to 127.0.0.1', () => {
  let server: ServerProcess;
  let owner: Client;
  let keyed: Client;
  let admin: Client;

  beforeAll(async () => {
    receiver = await startReceiver();
    beats = await startReceiver();
    server = await startServer('callbacks', claimTestUid(64_900, 100), {
      RUNBOX_HEARTBEAT_URL: `${beats.url}/beat`,
      RUNBOX_HEARTBEAT_INTERVAL_MS: '1000',
      RUNBOX_API_KEYS: `ci:${API_KEY}`,
      RUNBOX_CALLBACK_SECRET: SERVER_SECRET,
      RUNBOX_CALLBACK_KEY_SECRETS: `ci:${KEY_SECRET}`,
      RUNBOX_CALLBACK_ALLOW_NETWORKS: '127.0.0.1/32',
      RUNBOX_CALLBACK_RETRY_SCHEDULE_MS: '100,100,100,100,100',
      RUNBOX_PUBLIC_URL: 'https://runbox.example.org',
      RUNBOX_METRICS_TOKEN: 'metrics-token-0123456789',
    });
    owner = client(await ownerClient(server.url));
    keyed = client(makeClient(server.url, { cookie: null, authorization: `Bearer ${API_KEY}` }));
    admin = client(adminClient(server.url));
  }, 60_000);

  beforeEach(() => script([{ status: 200 }]));

  it('delivers once to a receiver that fails 3 times, every attempt with the same id and a valid signature', async () => {
    script([{ status: 500 }, { status: 503 }, { status: 502 }, { status: 200 }]);
    const created = await owner.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'x = sum(range(10))\nprint(x)\nx\n',
      callbackUrl: hookUrl('/hook?token=abc'),
    });
    const run = await storedEnd(owner, created.id);
    expect(run.value).toBe(45);
    const delivery = await settledDelivery(owner, created.id);
    expect(delivery).toMatchObject({
      runId: created.id,
      eventType: 'run.ended',
      url: hookUrl('/hook?token=abc'),
      state: 'delivered',
      attempts: 4,
      lastStatus: 200,
      nextAttemptAt: null,
    });
    expect(delivery.attemptLog.map((a) => [a.status, a.outcome, a.address])).toEqual([
      [500, 'failed', '127.0.0.1'],
      [503, 'failed', '127.0.0.1'],
      [502, 'failed', '127.0.0.1'],
      [200, 'delivered', '127.0.0.1'],
    ]);
    // Nothing more comes after the success.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(receiver.requests.map((r) => r.answeredWith)).toEqual([500, 503, 502, 200]);
    expect(receiver.requests.filter((r) => r.answeredWith === 200)).toHaveLength(1);

    const webhook = new Webhook(SERVER_SECRET);
    for (const request of receiver.requests) {
      expect(request.path).toBe('/hook?token=abc');
      expect(request.headers['webhook-id']).toBe(delivery.id);
      expect(Number(request.headers['webhook-timestamp'])).toBeGreaterThan(0);
      expect(webhook.verify(request.body, request.headers as Record<string, string>)).toEqual({
        type: 'run.ended',
        timestamp: new Date(run.finishedAt ?? 0).toISOString(),
        data: {
          id: run.id,
          kind: 'snippet',
          language: 'python',
          toolId: null,
          projectId: null,
          exampleId: null,
          state: 'completed',
          exitCode: 0,
          signal: null,
          error: null,
          durationMs: run.durationMs,
          usage: run.usage,
          queuedAt: run.queuedAt,
          startedAt: run.startedAt,
          finishedAt: run.finishedAt,
          outputLines: 1,
          outputBytes: { stdout: 3, stderr: 0 },
          warnings: [],
          artifactCount: 0,
          value: 45,
          links: {
            run: `https://runbox.example.org/api/v1/runs/${run.id}`,
            output: `https://runbox.example.org/api/v1/runs/${run.id}/output`,
            page: `https://runbox.example.org/runs/${run.id}`,
          },
        },
      });
    }
  });

  it("signs an API key's runs with the key's own secret", async () => {
    const created = await keyed.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo hi; exit 3\n',
      expectedOutput: 'hello\n',
      callbackUrl: hookUrl(),
    });
    expect(await settledDelivery(keyed, created.id)).toMatchObject({ state: 'delivered' });
    const [request] = receiver.requests;
    const headers = request?.headers as Record<string, string>;
    // The verdict of an expected output rides along: a grader needs no second call.
    expect(new Webhook(KEY_SECRET).verify(request?.body ?? '', headers)).toMatchObject({
      data: {
        id: created.id,
        state: 'failed',
        exitCode: 3,
        verdict: { status: 'failed', line: 1 },
      },
    });
    expect(() => new Webhook(SERVER_SECRET).verify(request?.body ?? '', headers)).toThrow();
  });

  it('reports a cancelled run too', async () => {
    const created = await owner.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'import time\ntime.sleep(60)\n',
      callbackUrl: hookUrl(),
    });
    await eventually(
      async () =>
        (await owner.runs.get.query({ id: created.id })).state === 'running' ? true : undefined,
      'the run to start',
      20_000,
    );
    await owner.runs.cancel.mutate({ id: created.id });
    expect(await settledDelivery(owner, created.id)).toMatchObject({ state: 'delivered' });
    expect(JSON.parse(receiver.requests[0]?.body ?? '{}')).toMatchObject({
      data: { id: created.id, state: 'cancelled' },
    });
  });

  it('stops at 410 Gone', async () => {
    script([{ status: 410 }, { status: 200 }]);
    const created = await owner.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo gone\n',
      callbackUrl: hookUrl(),
    });
    expect(await settledDelivery(owner, created.id)).toMatchObject({
      state: 'gone',
      attempts: 1,
      lastStatus: 410,
    });
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(receiver.requests).toHaveLength(1);
  });

  it('honours Retry-After', async () => {
    script([{ status: 429, headers: { 'retry-after': '2' } }, { status: 200 }]);
    const created = await owner.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo busy\n',
      callbackUrl: hookUrl(),
    });
    const delivery = await settledDelivery(owner, created.id);
    expect(delivery).toMatchObject({ state: 'delivered', attempts: 2 });
    const [first, second] = receiver.requests;
    // The schedule says 100 ms; the receiver asked for 2 s.
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(2_000);
    expect(second?.headers['webhook-id']).toBe(first?.headers['webhook-id']);
  });

  it('refuses at create a callbackUrl on a forbidden address not allowed, naming field and rule', async () => {
    const before = (await owner.runs.list.query({})).runs.length;
    for (const url of [
      'http://127.0.0.2:9/hook',
      'http://[::1]:9/hook',
      'http://[::ffff:127.0.0.2]/hook',
      'http://10.0.0.1/hook',
      'http://192.168.1.1/hook',
      'http://169.254.169.254/latest/meta-data/',
      'http://100.64.0.1/hook',
      'http://[fd00::1]/hook',
      'http://0.0.0.0/hook',
    ]) {
      const error = await rejectionOf(
        owner.runs.create.mutate({
          kind: 'snippet',
          language: 'bash',
          code: 'echo x\n',
          callbackUrl: url,
        }),
      );
      expect(error.data?.code, url).toBe('BAD_REQUEST');
      expect(runboxDetailsOf(error), url).toEqual({
        code: 'CALLBACK_REFUSED',
        field: 'callbackUrl',
        rule: 'forbidden-address',
      });
      expect(error.message).toMatch(/^callbackUrl: its host is /);
    }
    for (const url of [
      'ftp://hooks.example.org/',
      'not a url',
      `https://x.example/${'a'.repeat(2_100)}`,
    ]) {
      const error = await rejectionOf(
        owner.runs.create.mutate({
          kind: 'snippet',
          language: 'bash',
          code: 'echo x\n',
          callbackUrl: url,
        }),
      );
      expect(error.data?.code, url).toBe('BAD_REQUEST');
      expect(error.message, url).toContain('callbackUrl');
    }
    expect((await owner.runs.list.query({})).runs).toHaveLength(before);
    expect(receiver.requests).toHaveLength(0);
  });

  it('beats to the control plane, signed with the server secret', async () => {
    const [beat] = (await beats?.waitFor(1)) ?? [];
    expect(
      new Webhook(SERVER_SECRET).verify(beat?.body ?? '', beat?.headers as Record<string, string>),
    ).toMatchObject({
      type: 'server.heartbeat',
      data: { accepting: true, selfTestOk: true, queue: { concurrency: expect.any(Number) } },
    });
  });

  it('shows deliveries to the admin, who can send one again with the same id', async () => {
    const created = await owner.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo again\n',
      callbackUrl: hookUrl(),
    });
    const delivery = await settledDelivery(owner, created.id);
    const page = await admin.admin.deliveries.query({ states: ['delivered'], limit: 100 });
    expect(page.deliveries.map((d) => d.id)).toContain(delivery.id);
    // Someone else's run's deliveries are not the owner's to see.
    const stranger = client(await ownerClient(server.url));
    await expect(stranger.runs.deliveries.query({ id: created.id })).rejects.toThrow(/no run/);

    const again = await admin.admin.redeliver.mutate({ deliveryId: delivery.id });
    expect(again.id).toBe(delivery.id);
    await receiver.waitFor(2);
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([
      delivery.id,
      delivery.id,
    ]);
    expect(await settledDelivery(owner, created.id)).toMatchObject({
      state: 'delivered',
      attempts: 2,
    });
    // The owner may ask for it again too.
    await owner.runs.redeliver.mutate({ id: created.id, deliveryId: delivery.id });
    await receiver.waitFor(3);

    const metrics = await (
      await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })
    ).text();
    expect(metrics).toMatch(/^runbox_callback_deliveries_total\{outcome="delivered"\} [1-9]/m);
    expect(metrics).toMatch(/^runbox_callback_deliveries_total\{outcome="gone"\} 1$/m);
    expect(metrics).toMatch(/^runbox_callback_attempts_total\{outcome="failed"\} [1-9]/m);
    expect(metrics).toMatch(/^runbox_callback_deliveries_pending \d+$/m);
  });
});

describe('a server that allows no private address', () => {
  let server: ServerProcess;

  beforeAll(async () => {
    receiver ??= await startReceiver();
    // No server secret: only the API key `ci` can sign.
    server = await startServer('callbacks-strict', claimTestUid(64_900, 100), {
      RUNBOX_API_KEYS: `ci:${API_KEY}`,
      RUNBOX_CALLBACK_KEY_SECRETS: `ci:${KEY_SECRET}`,
      RUNBOX_CALLBACK_RETRY_SCHEDULE_MS: '100',
    });
  }, 60_000);

  beforeEach(() => script([{ status: 200 }]));

  it('refuses a loopback callbackUrl at create', async () => {
    const keyed = client(
      makeClient(server.url, { cookie: null, authorization: `Bearer ${API_KEY}` }),
    );
    for (const url of [hookUrl(), `http://localhost:${receiver.port}/hook`]) {
      const error = await rejectionOf(
        keyed.runs.create.mutate({
          kind: 'snippet',
          language: 'bash',
          code: 'echo x\n',
          callbackUrl: url,
        }),
      );
      expect(runboxDetailsOf(error), url).toMatchObject({
        code: 'CALLBACK_REFUSED',
        rule: 'forbidden-address',
      });
    }
  });

  it('refuses a callbackUrl when no secret can sign for the caller', async () => {
    const anonymous = client(await ownerClient(server.url));
    const error = await rejectionOf(
      anonymous.runs.create.mutate({
        kind: 'snippet',
        language: 'bash',
        code: 'echo x\n',
        callbackUrl: 'https://hooks.example.org/runbox',
      }),
    );
    expect(runboxDetailsOf(error)).toEqual({
      code: 'CALLBACK_REFUSED',
      field: 'callbackUrl',
      rule: 'no-secret',
    });
    expect(error.message).toContain('RUNBOX_CALLBACK_SECRET');
    // Without a callbackUrl the same caller runs as always.
    const run = await anonymous.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo x\n',
    });
    await storedEnd(anonymous, run.id);
    expect(await anonymous.runs.deliveries.query({ id: run.id })).toEqual([]);
  });

  it('refuses at delivery a name that resolves to a loopback address, sending nothing', async () => {
    const name = hostname();
    const addresses = await lookup(name, { all: true });
    // The precondition of this test: this machine's own name is not a public address.
    expect(
      addresses.map((a) => classifyAddress(a.address)).every((kind) => kind !== 'public'),
    ).toBe(true);
    const keyed = client(
      makeClient(server.url, { cookie: null, authorization: `Bearer ${API_KEY}` }),
    );
    const created = await keyed.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo x\n',
      callbackUrl: `http://${name}:${receiver.port}/hook`,
    });
    const delivery = await settledDelivery(keyed, created.id);
    expect(delivery).toMatchObject({
      state: 'refused',
      attempts: 1,
      lastStatus: null,
      nextAttemptAt: null,
    });
    expect(delivery.lastError).toContain(`${name.toLowerCase()} resolved to`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(receiver.requests).toHaveLength(0);
  });
});
