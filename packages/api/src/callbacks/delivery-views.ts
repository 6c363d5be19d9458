import { z } from 'zod';
import { NotFoundError } from '../errors/api-errors.ts';
import type { Services } from '../services.ts';
import { DELIVERY_STATES, type Delivery } from '../store/outbox.ts';

/** A callback delivery as the run page and the admin page show it. */

export const deliveryAttemptViewSchema = z.object({
  n: z.number(),
  at: z.number(),
  address: z.string().nullable(),
  status: z.number().nullable(),
  outcome: z.enum(['delivered', 'failed', 'gone', 'refused']),
  error: z.string().nullable(),
  durationMs: z.number(),
});

export const deliveryViewSchema = z.object({
  /** The webhook-id, the same on every attempt. */
  id: z.string(),
  runId: z.string(),
  eventType: z.string(),
  url: z.string(),
  state: z.enum(DELIVERY_STATES),
  attempts: z.number(),
  createdAt: z.number(),
  lastAttemptAt: z.number().nullable(),
  lastStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  /** While pending: when the next attempt goes. */
  nextAttemptAt: z.number().nullable(),
  deliveredAt: z.number().nullable(),
  /** Every attempt, oldest first. */
  attemptLog: z.array(deliveryAttemptViewSchema),
});
export type DeliveryView = z.infer<typeof deliveryViewSchema>;

export const deliveryIdSchema = z.string().regex(/^msg_[A-Za-z0-9_-]{1,64}$/, 'not a delivery id');

export function toDeliveryView(
  services: Pick<Services, 'store'>,
  delivery: Delivery,
): DeliveryView {
  return {
    id: delivery.id,
    runId: delivery.runId,
    eventType: delivery.eventType,
    url: delivery.url,
    state: delivery.state,
    attempts: delivery.attempts,
    createdAt: delivery.createdAt,
    lastAttemptAt: delivery.lastAttemptAt,
    lastStatus: delivery.lastStatus,
    lastError: delivery.lastError,
    nextAttemptAt: delivery.nextAttemptAt,
    deliveredAt: delivery.deliveredAt,
    attemptLog: services.store.outbox.attemptsOf(delivery.id),
  };
}

export function deliveriesOfRun(services: Pick<Services, 'store'>, runId: string): DeliveryView[] {
  return services.store.outbox.ofRun(runId).map((delivery) => toDeliveryView(services, delivery));
}

/**
 * Sends a delivery again from the start of the schedule (now, then the retries), with the same
 * webhook-id: the receiver can tell it is the same event. One still pending is left as it is.
 * `runId`, when given, must be the delivery's run (an owner redelivers only their own).
 */
export function redeliver(
  services: Pick<Services, 'store' | 'callbacks'>,
  deliveryId: string,
  runId?: string,
): DeliveryView {
  const current = services.store.outbox.get(deliveryId);
  if (!current || (runId !== undefined && current.runId !== runId))
    throw new NotFoundError('delivery', deliveryId);
  const updated = services.store.outbox.redeliver(deliveryId, Date.now()) ?? current;
  services.callbacks.poke();
  return toDeliveryView(services, updated);
}
