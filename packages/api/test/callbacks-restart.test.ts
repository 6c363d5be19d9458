import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveryView } from '../src/callbacks/delivery-views.ts';
import { startReceiver, type Receiver } from '../src/callbacks/test-support/receiver.ts';
import { makeClient, newOwnerCookie, type Client, type TestClient } from './support/clients.ts';
import { eventually, storedEnd } from './support/runs.ts';
import { removeCgroupGroup } from './support/server.ts';
import {
  startServerProcess,
  type ServerProcess,
  type ServerProcessOptions,
} from './support/subprocess.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * The outbox survives the server: stopped (SIGTERM) while a delivery waits for its retry, killed
 * (SIGKILL) while an attempt is in flight or while the run itself is running. The server started
 * again on the same data directory delivers, with the same webhook-id.
 */

// This file's sandbox uid (callbacks-delivery.test.ts has 64930 and 64931).
const SANDBOX_UID = claimTestUid(64_900, 100);
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

const tempDirs: string[] = [];
const groups: string[] = [];
const clients: TestClient[] = [];
let current: ServerProcess | null = null;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
});
afterEach(async () => {
  for (const made of clients.splice(0)) await made.close();
  // SIGTERM: a server that stops cleanly unmounts its workspaces (a killed one leaves them to the
  // next start on its sandbox directory).
  if (current && current.child.exitCode === null && current.child.signalCode === null)
    await current.terminate();
  current = null;
});
afterAll(async () => {
  await receiver?.close();
  for (const dir of tempDirs) await rm(dir, { recursive: true, force: true });
  for (const group of groups) await removeCgroupGroup(group);
});

async function freshOptions(name: string): Promise<ServerProcessOptions> {
  const dataDir = await mkdtemp(join(tmpdir(), `runbox-api-${name}-data-`));
  const sandboxDir = await mkdtemp(join(tmpdir(), `runbox-api-${name}-sandbox-`));
  const cgroupGroup = `runbox-api-test-${name}-${randomBytes(3).toString('hex')}`;
  tempDirs.push(dataDir, sandboxDir);
  groups.push(cgroupGroup);
  return { dataDir, sandboxDir, sandboxUid: SANDBOX_UID, cgroupGroup };
}

async function start(
  options: ServerProcessOptions,
  env: Record<string, string>,
): Promise<ServerProcess> {
  current = await startServerProcess({
    ...options,
    env: { RUNBOX_CALLBACK_SECRET: SECRET, RUNBOX_CALLBACK_ALLOW_NETWORKS: '127.0.0.1', ...env },
  });
  return current;
}

function client(server: ServerProcess, cookie: string): Client {
  const made = makeClient(server.url, { cookie });
  clients.push(made);
  return made.trpc;
}

async function deliveryWhere(
  trpc: Client,
  runId: string,
  what: string,
  test: (delivery: DeliveryView) => boolean,
): Promise<DeliveryView> {
  return eventually(
    async () => {
      const [delivery] = await trpc.runs.deliveries.query({ id: runId });
      return delivery && test(delivery) ? delivery : undefined;
    },
    what,
    30_000,
  );
}

function resetReceiver(answers: Parameters<Receiver['script']>[0]): void {
  receiver.script(answers);
  receiver.requests.length = 0;
}

describe('a delivery across a restart', () => {
  it('waiting for its retry when the server stops (SIGTERM) arrives after the start', async () => {
    const options = await freshOptions('callbacks-stop');
    resetReceiver([{ status: 500 }, { status: 200 }]);
    // One retry, 5 s after the first failure: long enough for the stop to come first.
    const env = { RUNBOX_CALLBACK_RETRY_SCHEDULE_MS: '5000' };
    const first = await start(options, env);
    const cookie = await newOwnerCookie(first.url);
    const before = client(first, cookie);
    const created = await before.runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo one\n',
      callbackUrl: `${receiver.url}/hook`,
    });
    await storedEnd(before, created.id);
    const waiting = await deliveryWhere(
      before,
      created.id,
      'the first attempt to fail',
      (d) => d.attempts === 1,
    );
    expect(waiting).toMatchObject({ state: 'pending', lastStatus: 500 });
    expect(waiting.nextAttemptAt).toBeGreaterThan(waiting.lastAttemptAt ?? 0);

    expect(await first.terminate()).toEqual({ code: 0, signal: null });
    // The stopped server made no second attempt.
    expect(receiver.requests).toHaveLength(1);

    const second = await start(options, env);
    const after = client(second, cookie);
    const delivered = await deliveryWhere(
      after,
      created.id,
      'the delivery after the restart',
      (d) => d.state === 'delivered',
    );
    expect(delivered).toMatchObject({ id: waiting.id, attempts: 2, lastStatus: 200 });
    expect(delivered.attemptLog.map((a) => a.outcome)).toEqual(['failed', 'delivered']);
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([waiting.id, waiting.id]);
    for (const request of receiver.requests)
      expect(
        new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>),
      ).toMatchObject({ data: { id: created.id, state: 'completed' } });
  });

  it('in flight when the server is killed (SIGKILL) is sent again, with the same id', async () => {
    const options = await freshOptions('callbacks-kill');
    // The first attempt gets no answer: the server dies while it waits for one.
    resetReceiver([{ status: 200, hang: true }, { status: 200 }]);
    const env = { RUNBOX_CALLBACK_TIMEOUT_MS: '60000' };
    const first = await start(options, env);
    const cookie = await newOwnerCookie(first.url);
    const created = await client(first, cookie).runs.create.mutate({
      kind: 'snippet',
      language: 'bash',
      code: 'echo two\n',
      callbackUrl: `${receiver.url}/hook`,
    });
    const [inFlight] = await receiver.waitFor(1);
    await first.kill();

    const second = await start(options, env);
    const after = client(second, cookie);
    const delivered = await deliveryWhere(
      after,
      created.id,
      'the delivery after the kill',
      (d) => d.state === 'delivered',
    );
    // The attempt the kill cut short was never recorded: one attempt, and the receiver saw two.
    expect(delivered).toMatchObject({ attempts: 1, lastStatus: 200 });
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([
      inFlight?.headers['webhook-id'],
      delivered.id,
    ]);
    expect(inFlight?.headers['webhook-id']).toBe(delivered.id);
  });

  it('of a run the kill interrupted reports it interrupted', async () => {
    const options = await freshOptions('callbacks-interrupted');
    resetReceiver([{ status: 200 }]);
    const first = await start(options, {});
    const cookie = await newOwnerCookie(first.url);
    const before = client(first, cookie);
    const created = await before.runs.create.mutate({
      kind: 'snippet',
      language: 'python',
      code: 'import time\nprint("started", flush=True)\ntime.sleep(60)\n',
      callbackUrl: `${receiver.url}/hook`,
    });
    await eventually(
      async () =>
        (await before.runs.get.query({ id: created.id })).state === 'running' ? true : undefined,
      'the run to start',
      20_000,
    );
    await first.kill();
    expect(receiver.requests).toHaveLength(0);

    const second = await start(options, {});
    const after = client(second, cookie);
    await deliveryWhere(
      after,
      created.id,
      'the interrupted run to be reported',
      (d) => d.state === 'delivered',
    );
    const [request] = receiver.requests;
    expect(receiver.requests).toHaveLength(1);
    expect(
      new Webhook(SECRET).verify(request?.body ?? '', request?.headers as Record<string, string>),
    ).toMatchObject({ data: { id: created.id, state: 'interrupted' } });
  });
});
