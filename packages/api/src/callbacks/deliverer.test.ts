import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { Webhook } from 'standardwebhooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseTrustedProxy } from '../client-address.ts';
import type { Delivery } from '../store/outbox.ts';
import type { Store } from '../store/store.ts';
import {
  completedResult,
  makeTestDir,
  openTestStore,
  snippetRun,
  type TestDir,
} from '../store/store-test-fixtures.ts';
import { createAddressPolicy } from './address-policy.ts';
import type { CallbackConfig } from './callback-config.ts';
import { registerCallbackMetrics } from './callback-metrics.ts';
import { createDeliverer, type Deliverer } from './deliverer.ts';
import { startReceiver, type Receiver, type ScriptedAnswer } from './test-support/receiver.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

let tmp: TestDir;
let store: Store;
let receiver: Receiver;
let deliverer: Deliverer | null = null;
const logs: string[] = [];

beforeEach(() => {
  tmp = makeTestDir();
  ({ store } = openTestStore(tmp.dir));
  logs.length = 0;
});
afterEach(async () => {
  await deliverer?.stop();
  deliverer = null;
  await receiver?.close();
  store.close();
  tmp.remove();
});

function config(overrides: Partial<CallbackConfig> = {}): CallbackConfig {
  return {
    defaultUrl: null,
    serverSecret: SECRET,
    keySecrets: new Map(),
    allowNetworks: ['127.0.0.0/8', '::1'].map((entry) => parseTrustedProxy(entry)!),
    retryScheduleMs: [50, 50, 50, 50],
    maxAgeMs: 60_000,
    timeoutMs: 2_000,
    publicUrl: 'https://runbox.example.org',
    heartbeat: null,
    ...overrides,
  };
}

function start(settings: CallbackConfig, registry?: Registry): Deliverer {
  deliverer = createDeliverer({
    outbox: store.outbox,
    config: settings,
    policy: createAddressPolicy(settings.allowNetworks),
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
    ...(registry
      ? { metrics: registerCallbackMetrics(registry, () => store.outbox.counts()) }
      : {}),
  });
  deliverer.start();
  return deliverer;
}

/** A run with a callback to `url`, ended: its delivery is in the outbox. */
function endedRun(url: string, id = 'run-1'): Delivery {
  store.insertRun(snippetRun({ id, callback: { url, secretId: 'server' } }));
  store.appendEvent(id, {
    seq: 1,
    at: 1_900,
    type: 'end',
    result: completedResult({ value: [1, 2, 3] }),
  });
  store.flush();
  const delivery = store.outbox.ofRun(id)[0];
  if (!delivery) throw new Error('no delivery enqueued');
  return delivery;
}

async function settled(id: string, timeoutMs = 20_000): Promise<Delivery> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const delivery = store.outbox.get(id);
    if (delivery && delivery.state !== 'pending') return delivery;
    if (Date.now() > deadline) throw new Error(`delivery ${id} is still ${delivery?.state}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function receive(answers: ScriptedAnswer[]): Promise<Receiver> {
  receiver = await startReceiver(answers);
  return receiver;
}

describe('the deliverer', () => {
  it('retries until a 2xx, with one webhook-id, each attempt signed and verifiable', async () => {
    await receive([
      { status: 500 },
      { status: 502 },
      { status: 429 },
      { status: 204 },
      { status: 200 },
    ]);
    const delivery = endedRun(`${receiver.url}/hooks/runbox?token=t1`);
    const registry = new Registry();
    start(config(), registry);
    const done = await settled(delivery.id);
    expect(done).toMatchObject({
      state: 'delivered',
      attempts: 4,
      lastStatus: 204,
      lastError: null,
    });
    expect(receiver.requests.map((r) => r.answeredWith)).toEqual([500, 502, 429, 204]);
    expect(store.outbox.attemptsOf(delivery.id).map((a) => [a.n, a.status, a.outcome])).toEqual([
      [1, 500, 'failed'],
      [2, 502, 'failed'],
      [3, 429, 'failed'],
      [4, 204, 'delivered'],
    ]);
    const webhook = new Webhook(SECRET);
    for (const request of receiver.requests) {
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/hooks/runbox?token=t1');
      expect(request.headers['webhook-id']).toBe(delivery.id);
      expect(request.headers['content-type']).toBe('application/json');
      const payload = webhook.verify(request.body, request.headers as Record<string, string>);
      expect(payload).toMatchObject({
        type: 'run.ended',
        timestamp: new Date(1_900).toISOString(),
        data: {
          id: 'run-1',
          state: 'completed',
          exitCode: 0,
          value: [1, 2, 3],
          links: {
            output: 'https://runbox.example.org/api/v1/runs/run-1/output',
            page: 'https://runbox.example.org/runs/run-1',
          },
        },
      });
      // The same bytes every time; only the timestamp and signature are the attempt's.
      expect(request.body).toBe(receiver.requests[0]?.body);
    }
    // A wrong secret does not verify.
    const other = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
    const first = receiver.requests[0];
    expect(() =>
      other.verify(first?.body ?? '', first?.headers as Record<string, string>),
    ).toThrow();
    const metrics = await registry.metrics();
    expect(metrics).toContain('runbox_callback_deliveries_total{outcome="delivered"} 1');
    expect(metrics).toContain('runbox_callback_attempts_total{outcome="failed"} 3');
    expect(metrics).toContain('runbox_callback_deliveries_pending 0');
  });

  it('stops at 410 Gone', async () => {
    await receive([{ status: 410 }, { status: 200 }]);
    const delivery = endedRun(`${receiver.url}/gone`);
    start(config());
    expect(await settled(delivery.id)).toMatchObject({
      state: 'gone',
      attempts: 1,
      lastStatus: 410,
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(receiver.requests).toHaveLength(1);
  });

  it('waits at least as long as Retry-After asks', async () => {
    await receive([{ status: 503, headers: { 'retry-after': '1' } }, { status: 200 }]);
    const delivery = endedRun(`${receiver.url}/busy`);
    start(config());
    const [first, second] = await receiver.waitFor(2);
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    const done = await settled(delivery.id);
    expect(done.state).toBe('delivered');
    const [a1] = store.outbox.attemptsOf(delivery.id);
    expect(a1?.error).toBe('HTTP 503');
  });

  it('does not follow redirects, and gives up when the schedule runs out', async () => {
    const target = await startReceiver([{ status: 200 }]);
    try {
      await receive([{ status: 302, headers: { location: `${target.url}/elsewhere` } }]);
      const delivery = endedRun(`${receiver.url}/moved`);
      start(config({ retryScheduleMs: [20, 20] }));
      const done = await settled(delivery.id);
      expect(done).toMatchObject({ state: 'failed', attempts: 3, lastStatus: 302 });
      expect(done.lastError).toBe('HTTP 302 (redirects are not followed); no tries left');
      expect(target.requests).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it('ends an attempt that gets no answer in time, and reads no more than the cap of a body', async () => {
    await receive([
      { status: 200, hang: true },
      { status: 200, bodyBytes: 64 * 1024 * 1024 },
    ]);
    const delivery = endedRun(`${receiver.url}/slow`);
    start(config({ timeoutMs: 300 }));
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ state: 'delivered', attempts: 2 });
    // The sender hung up long before 64 MiB: it reads at most MAX_RESPONSE_BYTES.
    expect(receiver.requests[1]?.answerFinished).toBe(false);
    expect(store.outbox.attemptsOf(delivery.id)[0]).toMatchObject({
      outcome: 'failed',
      status: null,
      error: 'no answer within 300 ms',
    });
  });

  it('refuses, without sending, a name that resolves to a forbidden address', async () => {
    await receive([{ status: 200 }]);
    const delivery = endedRun(`http://localhost:${receiver.port}/hook`);
    start(config({ allowNetworks: [] }));
    const done = await settled(delivery.id);
    expect(done).toMatchObject({ state: 'refused', attempts: 1, lastStatus: null });
    expect(done.lastError).toMatch(/^localhost resolved to (127\.0\.0\.1|::1), a loopback address/);
    expect(receiver.requests).toHaveLength(0);
  });

  it('connects a name to the address it checked when that address is allowed', async () => {
    await receive([{ status: 200 }]);
    const delivery = endedRun(`http://localhost:${receiver.port}/hook`);
    start(config());
    const done = await settled(delivery.id);
    expect(done.state).toBe('delivered');
    expect(receiver.requests[0]?.headers.host).toBe(`localhost:${receiver.port}`);
    expect(store.outbox.attemptsOf(delivery.id)[0]?.address).toMatch(/^(127\.0\.0\.1|::1)$/);
  });

  it('refuses a delivery whose secret is no longer configured', async () => {
    await receive([{ status: 200 }]);
    const delivery = endedRun(`${receiver.url}/hook`);
    start(config({ serverSecret: null }));
    expect(await settled(delivery.id)).toMatchObject({ state: 'refused', attempts: 1 });
    expect(receiver.requests).toHaveLength(0);
  });

  it('leaves an attempt cut short by a stop unrecorded, and sends it again after the restart', async () => {
    await receive([{ status: 200, hang: true }, { status: 200 }]);
    const delivery = endedRun(`${receiver.url}/hook`);
    const first = start(config({ timeoutMs: 60_000 }));
    await receiver.waitFor(1);
    await first.stop();
    expect(store.outbox.get(delivery.id)).toMatchObject({ state: 'pending', attempts: 0 });
    start(config());
    expect(await settled(delivery.id)).toMatchObject({ state: 'delivered', attempts: 1 });
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([
      delivery.id,
      delivery.id,
    ]);
  });

  it('sends a redelivery from the start of the schedule, with the same id', async () => {
    await receive([{ status: 200 }]);
    const delivery = endedRun(`${receiver.url}/hook`);
    const running = start(config());
    await settled(delivery.id);
    store.outbox.redeliver(delivery.id, Date.now());
    running.poke();
    await receiver.waitFor(2);
    expect(await settled(delivery.id)).toMatchObject({ state: 'delivered', attempts: 2 });
    expect(receiver.requests.map((r) => r.headers['webhook-id'])).toEqual([
      delivery.id,
      delivery.id,
    ]);
  });
});
