'use client';
import { useInfiniteQuery, useMutation } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { DeliveryStateBadge, DeliveryUrl, LastResult, NextTry } from '@/components/delivery-parts';
import {
  DELIVERY_STATE_WORDS,
  DELIVERY_STATES,
  isPending,
  type DeliveryState,
} from '@/lib/deliveries';
import { errorMessage, useAdminTRPC } from '@/lib/trpc';
import { useNow } from '@/lib/use-now';

/** Asked again this often; every second while a delivery is pending (its retries are seconds apart). */
const POLL_MS = 5_000;
const PENDING_POLL_MS = 1_000;
const PAGE = 50;

/**
 * Every run's callback deliveries, newest first, filtered by state: the run, the URL, how it
 * went, the next try, and a redelivery (same webhook-id, the schedule from the start) of any
 * that is not pending.
 */
export function CallbacksSection({ enabled }: { enabled: boolean }) {
  const trpc = useAdminTRPC();
  const [states, setStates] = useState<DeliveryState[]>([]);
  const deliveries = useInfiniteQuery(
    trpc.admin.deliveries.infiniteQueryOptions(
      { limit: PAGE, ...(states.length ? { states } : {}) },
      {
        enabled,
        getNextPageParam: (page) => page.nextCursor ?? undefined,
        refetchInterval: (query) =>
          query.state.data?.pages.some((page) => page.deliveries.some(isPending))
            ? PENDING_POLL_MS
            : POLL_MS,
      },
    ),
  );
  const redeliver = useMutation(
    trpc.admin.redeliver.mutationOptions({ onSuccess: () => void deliveries.refetch() }),
  );
  const toggle = (state: DeliveryState) =>
    setStates((current) =>
      current.includes(state) ? current.filter((s) => s !== state) : [...current, state],
    );
  const all = deliveries.data?.pages.flatMap((page) => page.deliveries) ?? [];
  const now = useNow(all.some(isPending), 1_000);

  return (
    <section className="card" aria-labelledby="callbacks-title">
      <h2 id="callbacks-title">Callbacks</h2>
      <div className="filters" role="group" aria-label="Filter callbacks by state">
        <button
          type="button"
          className="chip"
          aria-pressed={states.length === 0}
          onClick={() => setStates([])}
        >
          All
        </button>
        {DELIVERY_STATES.map((state) => (
          <button
            key={state}
            type="button"
            className="chip"
            aria-pressed={states.includes(state)}
            onClick={() => toggle(state)}
          >
            {DELIVERY_STATE_WORDS[state].label}
          </button>
        ))}
      </div>
      {redeliver.error && (
        <div className="alert error" role="alert">
          {errorMessage(redeliver.error)}
        </div>
      )}
      {deliveries.isPending ? (
        <p className="muted">Loading…</p>
      ) : deliveries.isError ? (
        <p className="alert error">{errorMessage(deliveries.error)}</p>
      ) : all.length === 0 ? (
        <p className="muted">
          {states.length
            ? 'No callback delivery is in these states.'
            : 'No run has had a callback yet (runs name one with callbackUrl, or the server has RUNBOX_CALLBACK_URL).'}
        </p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">URL</th>
              <th scope="col">State</th>
              <th scope="col">Attempts</th>
              <th scope="col">Last status</th>
              <th scope="col">Next try</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {all.map((delivery) => (
              <tr key={delivery.id} data-delivery={delivery.id}>
                <td>
                  {/* The id's first 12 characters, as the queue tables above show a run. */}
                  <Link href={`/runs/${encodeURIComponent(delivery.runId)}`} className="mono">
                    {delivery.runId.slice(0, 12)}
                  </Link>
                  <div className="muted small mono">{delivery.id}</div>
                </td>
                <td>
                  <DeliveryUrl url={delivery.url} />
                </td>
                <td>
                  <DeliveryStateBadge state={delivery.state} />
                </td>
                <td className="num" data-testid="delivery-attempts">
                  {delivery.attempts}
                </td>
                <td>
                  <LastResult delivery={delivery} />
                </td>
                <td className="num">
                  <NextTry delivery={delivery} now={now} />
                </td>
                <td>
                  {!isPending(delivery) && (
                    <button
                      type="button"
                      disabled={
                        redeliver.isPending && redeliver.variables?.deliveryId === delivery.id
                      }
                      onClick={() => redeliver.mutate({ deliveryId: delivery.id })}
                      aria-label={`Redeliver ${delivery.id}`}
                    >
                      Redeliver
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {deliveries.hasNextPage && (
        <div className="row" style={{ justifyContent: 'center', marginTop: 'var(--space-3)' }}>
          <button
            type="button"
            onClick={() => void deliveries.fetchNextPage()}
            disabled={deliveries.isFetchingNextPage}
          >
            {deliveries.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        </div>
      )}
    </section>
  );
}
