import { Webhook } from 'standardwebhooks';
import type { Delivery } from '../store/outbox.ts';

/**
 * The body and headers of one attempt, as Standard Webhooks has them: a JSON body
 * `{ type, timestamp, data }`, and `webhook-id` (the delivery's, the same on every attempt),
 * `webhook-timestamp` (this attempt's, in seconds) and `webhook-signature` (`v1,<base64 of
 * HMAC-SHA256 over "<id>.<timestamp>.<body>">`), signed with the npm `standardwebhooks` package.
 */

/** Where the payload points: the run in the API, its output, its page. */
export function runLinks(
  runId: string,
  publicUrl: string | null,
): { run: string; output: string; page: string } {
  const base = publicUrl ?? '';
  const id = encodeURIComponent(runId);
  return {
    run: `${base}/api/v1/runs/${id}`,
    output: `${base}/api/v1/runs/${id}/output`,
    page: `${base}/runs/${id}`,
  };
}

/**
 * The body: the same bytes on every attempt of a delivery (the summary was frozen at the end, the
 * timestamp is the run's end).
 */
export function webhookBody(delivery: Delivery, publicUrl: string | null): string {
  const summary =
    typeof delivery.summary === 'object' && delivery.summary !== null
      ? (delivery.summary as Record<string, unknown>)
      : {};
  const finishedAt =
    typeof summary.finishedAt === 'number' ? summary.finishedAt : delivery.createdAt;
  return JSON.stringify({
    type: delivery.eventType,
    timestamp: new Date(finishedAt).toISOString(),
    data: { ...summary, links: runLinks(delivery.runId, publicUrl) },
  });
}

export function webhookHeaders(options: {
  id: string;
  secret: string;
  body: string;
  now: number;
}): Record<string, string> {
  const timestamp = new Date(options.now);
  return {
    'content-type': 'application/json',
    'user-agent': 'runbox-callbacks/1',
    'webhook-id': options.id,
    'webhook-timestamp': String(Math.floor(options.now / 1_000)),
    'webhook-signature': new Webhook(options.secret).sign(options.id, timestamp, options.body),
  };
}
