import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTrustedProxy } from '../client-address.ts';
import { createAddressPolicy } from './address-policy.ts';
import { createHeartbeat, type Heartbeat } from './heartbeat.ts';
import { startReceiver, type Receiver } from './test-support/receiver.ts';

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
let receiver: Receiver | null = null;
let heartbeat: Heartbeat | null = null;
const logs: string[] = [];

afterEach(async () => {
  await heartbeat?.stop();
  heartbeat = null;
  await receiver?.close();
  receiver = null;
  logs.length = 0;
});

function beatTo(url: string, allow: string[]): Heartbeat {
  heartbeat = createHeartbeat({
    url,
    intervalMs: 50,
    secret: SECRET,
    policy: createAddressPolicy(allow.map((entry) => parseTrustedProxy(entry)!)),
    timeoutMs: 1_000,
    status: () => ({ queue: { waiting: 2, running: 1 } }),
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(m) },
  });
  heartbeat.start();
  return heartbeat;
}

describe('the heartbeat', () => {
  it('posts a signed server.heartbeat every interval, each with its own id', async () => {
    receiver = await startReceiver([{ status: 500 }, { status: 204 }]);
    beatTo(`${receiver.url}/beat`, ['127.0.0.1']);
    const beats = await receiver.waitFor(3);
    const webhook = new Webhook(SECRET);
    for (const beat of beats) {
      expect(webhook.verify(beat.body, beat.headers as Record<string, string>)).toMatchObject({
        type: 'server.heartbeat',
        data: { queue: { waiting: 2, running: 1 }, uptimeMs: expect.any(Number) },
      });
    }
    expect(new Set(beats.map((beat) => beat.headers['webhook-id'])).size).toBe(3);
    // One line when it failed, one when it answered again.
    expect(logs).toEqual(['heartbeat: HTTP 500', 'heartbeat: answered again']);
  });

  it('calls no forbidden address, and says so once', async () => {
    receiver = await startReceiver();
    beatTo(`${receiver.url}/beat`, []);
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(receiver.requests).toHaveLength(0);
    expect(logs).toEqual(['heartbeat: 127.0.0.1 is a loopback address, which is not called']);
  });
});
