import type { AppRouter } from '@runbox/api';
import type { inferRouterOutputs } from '@trpc/server';
import { formatDuration, type StateWords } from './format';

/** Callback deliveries (docs/callbacks.md) in the words the run page and the admin page show. */

type Outputs = inferRouterOutputs<AppRouter>;
export type DeliveryView = Outputs['runs']['deliveries'][number];
export type DeliveryAttempt = DeliveryView['attemptLog'][number];
export type DeliveryState = DeliveryView['state'];

/** Every state, in the order a filter lists them (a Record: the compiler keeps it whole). */
export const DELIVERY_STATE_WORDS: Record<DeliveryState, StateWords> = {
  pending: { label: 'Pending', tone: 'busy' },
  delivered: { label: 'Delivered', tone: 'good' },
  failed: { label: 'Failed', tone: 'bad' },
  gone: { label: 'Gone (410)', tone: 'warn' },
  refused: { label: 'Refused', tone: 'bad' },
};

export const DELIVERY_STATES = Object.keys(DELIVERY_STATE_WORDS) as DeliveryState[];

/** A pending delivery is still being tried: it is polled, and it cannot be sent again yet. */
export function isPending(delivery: Pick<DeliveryView, 'state'>): boolean {
  return delivery.state === 'pending';
}

/** What one attempt got: `HTTP 500`, or the error when no answer came (`connect ECONNREFUSED`). */
export function attemptResult(attempt: Pick<DeliveryAttempt, 'status' | 'error'>): string {
  if (attempt.status !== null) return `HTTP ${attempt.status}`;
  return attempt.error ?? 'no answer';
}

/** The last attempt's result, or a dash before the first. */
export function lastResult(delivery: Pick<DeliveryView, 'lastStatus' | 'lastError'>): string {
  if (delivery.lastStatus === null && delivery.lastError === null) return '—';
  return attemptResult({ status: delivery.lastStatus, error: delivery.lastError });
}

/** "in 4.2 s", "now" (due, or in flight), or a dash when no attempt is planned. */
export function nextTry(
  delivery: Pick<DeliveryView, 'state' | 'nextAttemptAt'>,
  now: number,
): string {
  if (delivery.state !== 'pending' || delivery.nextAttemptAt === null) return '—';
  const wait = delivery.nextAttemptAt - now;
  return wait < 500 ? 'now' : `in ${formatDuration(wait)}`;
}

/**
 * The server's message about one input field of a refused call, or null when the error is about
 * something else: a runbox error naming the field (`CALLBACK_REFUSED` names `callbackUrl`), or an
 * input validation error, whose message is zod's list of issues as JSON.
 */
export function fieldError(error: unknown, field: string): string | null {
  if (!error || typeof error !== 'object') return null;
  const message = error instanceof Error ? error.message : null;
  const runbox = (error as { data?: { runbox?: { field?: string } | null } }).data?.runbox;
  if (runbox) return runbox.field === field ? message : null;
  if (!message?.trimStart().startsWith('[')) return null;
  let issues: unknown;
  try {
    issues = JSON.parse(message);
  } catch {
    return null;
  }
  if (!Array.isArray(issues)) return null;
  for (const issue of issues as unknown[]) {
    if (!issue || typeof issue !== 'object') continue;
    const { path, message: text } = issue as { path?: unknown; message?: unknown };
    if (Array.isArray(path) && path[0] === field && typeof text === 'string') return text;
  }
  return null;
}
