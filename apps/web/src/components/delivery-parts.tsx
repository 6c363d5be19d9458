'use client';
import {
  DELIVERY_STATE_WORDS,
  lastResult,
  nextTry,
  type DeliveryState,
  type DeliveryView,
} from '@/lib/deliveries';

/** The pieces of a callback delivery the run page and the admin page both show. */

export function DeliveryStateBadge({ state }: { state: DeliveryState }) {
  const words = DELIVERY_STATE_WORDS[state];
  return (
    <span className={`badge tone-${words.tone}`} data-testid="delivery-state" data-state={state}>
      {words.label}
    </span>
  );
}

/** The URL a delivery is POSTed to: long ones wrap rather than widen the table. */
export function DeliveryUrl({ url }: { url: string }) {
  return <span className="mono small delivery-url">{url}</span>;
}

export function LastResult({ delivery }: { delivery: DeliveryView }) {
  return <span data-testid="delivery-last">{lastResult(delivery)}</span>;
}

/** When the next attempt goes, counted from the browser's clock; a dash when none is planned. */
export function NextTry({ delivery, now }: { delivery: DeliveryView; now: number }) {
  const text = nextTry(delivery, now);
  if (delivery.nextAttemptAt === null || text === '—') return <>—</>;
  return <time dateTime={new Date(delivery.nextAttemptAt).toISOString()}>{text}</time>;
}
