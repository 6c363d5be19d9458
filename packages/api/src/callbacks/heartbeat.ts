import { newDeliveryId } from '../store/outbox.ts';
import { describeRefusal, type AddressPolicy } from './address-policy.ts';
import type { DelivererLog } from './deliverer.ts';
import { sendWebhook } from './send-webhook.ts';
import { webhookHeaders } from './webhook-payload.ts';

/**
 * The server's heartbeat to a control plane (RUNBOX_HEARTBEAT_URL, off by default): every
 * interval a signed `server.heartbeat` POST with what the server is doing, under the same address
 * rule as callbacks. Nothing is stored or retried: the next beat is the retry, and a control
 * plane that misses beats knows what that means.
 */
export interface Heartbeat {
  start(): void;
  stop(): Promise<void>;
}

/** What a beat says: whatever the server reports (queue, readiness), as JSON. */
export type HeartbeatStatus = () => Record<string, unknown>;

export function createHeartbeat(options: {
  url: string;
  intervalMs: number;
  secret: string;
  policy: AddressPolicy;
  timeoutMs: number;
  status: HeartbeatStatus;
  log: DelivererLog;
  now?: () => number;
}): Heartbeat {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | null = null;
  let beating: Promise<void> | null = null;
  let failing: string | null = null;

  async function beat(): Promise<void> {
    const at = now();
    const body = JSON.stringify({
      type: 'server.heartbeat',
      timestamp: new Date(at).toISOString(),
      data: { startedAt, uptimeMs: at - startedAt, ...options.status() },
    });
    const id = newDeliveryId();
    const result = await sendWebhook({
      url: options.url,
      body,
      headers: webhookHeaders({ id, secret: options.secret, body, now: at }),
      policy: options.policy,
      timeoutMs: Math.min(options.timeoutMs, options.intervalMs),
      maxResponseBytes: 4_096,
      signal: controller.signal,
    });
    if (controller.signal.aborted) return;
    const problem =
      result.kind === 'answered'
        ? result.status >= 200 && result.status < 300
          ? null
          : `HTTP ${result.status}`
        : result.kind === 'refused'
          ? `${result.address} is ${describeRefusal(result.refused)}, which is not called`
          : result.message;
    // One line when beats start failing and one when they work again, not one per beat.
    if (problem !== null && failing === null) options.log.warn(`heartbeat: ${problem}`);
    if (problem === null && failing !== null) options.log.info('heartbeat: answered again');
    failing = problem;
  }

  function schedule(): void {
    timer = setTimeout(() => {
      beating = beat()
        .catch((error: unknown) => options.log.warn(`heartbeat failed: ${String(error)}`))
        .finally(() => {
          beating = null;
          if (!controller.signal.aborted) schedule();
        });
    }, options.intervalMs);
    timer.unref();
  }

  return {
    start() {
      if (timer !== null || controller.signal.aborted) return;
      schedule();
    },
    async stop() {
      controller.abort(new Error('runbox is stopping'));
      if (timer !== null) clearTimeout(timer);
      await beating;
    },
  };
}
