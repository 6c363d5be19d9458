'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DeliveryStateBadge, DeliveryUrl, LastResult, NextTry } from '@/components/delivery-parts';
import { formatDuration, formatTime } from '@/lib/format';
import { attemptResult, isPending, type DeliveryView } from '@/lib/deliveries';
import { errorMessage, useTRPC } from '@/lib/trpc';
import { useNow } from '@/lib/use-now';

/** How often a pending delivery is asked again: retries come seconds apart at the soonest. */
const POLL_MS = 1_000;

function DeliveryDetails(props: {
  delivery: DeliveryView;
  now: number;
  onSendAgain: () => void;
  sending: boolean;
}) {
  const { delivery, now } = props;
  return (
    <div className="stack" data-testid="callback-delivery" data-delivery={delivery.id}>
      <dl className="kv">
        <dt>URL</dt>
        <dd>
          <DeliveryUrl url={delivery.url} />
        </dd>
        <dt>State</dt>
        <dd>
          <DeliveryStateBadge state={delivery.state} />
        </dd>
        <dt>Attempts</dt>
        <dd data-testid="delivery-attempts">{delivery.attempts}</dd>
        <dt>Last status</dt>
        <dd>
          <LastResult delivery={delivery} />
        </dd>
        <dt>Next try</dt>
        <dd>
          <NextTry delivery={delivery} now={now} />
        </dd>
        <dt>Webhook id</dt>
        <dd className="mono small">{delivery.id}</dd>
      </dl>
      {delivery.attemptLog.length > 0 && (
        <table className="table" aria-label="Attempts">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time</th>
              <th scope="col">Result</th>
              <th scope="col">Took</th>
            </tr>
          </thead>
          <tbody>
            {delivery.attemptLog.map((attempt) => (
              <tr key={attempt.n}>
                <td className="num">{attempt.n}</td>
                <td className="num">
                  <time dateTime={new Date(attempt.at).toISOString()}>
                    {formatTime(attempt.at)}
                  </time>
                </td>
                <td>
                  <span className={attempt.outcome === 'delivered' ? undefined : 'delivery-error'}>
                    {attemptResult(attempt)}
                  </span>
                </td>
                <td className="num">{formatDuration(attempt.durationMs)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!isPending(delivery) && (
        <div className="row">
          <button type="button" onClick={props.onSendAgain} disabled={props.sending}>
            {props.sending ? 'Sending…' : 'Send again'}
          </button>
          <span className="muted small">Same webhook id, the retries from the start.</span>
        </div>
      )}
    </div>
  );
}

/**
 * The run's callback deliveries (docs/callbacks.md): where, how it went, each attempt, the next
 * try, and "Send again" once it is no longer pending. A delivery is stored with the run's end,
 * so the panel asks once the run has ended, and again every second while one is pending. Nothing
 * shows for a run without a callback.
 */
export function CallbackPanel({ runId, ended }: { runId: string; ended: boolean }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const queryKey = trpc.runs.deliveries.queryKey({ id: runId });
  const deliveries = useQuery({
    ...trpc.runs.deliveries.queryOptions({ id: runId }),
    enabled: ended,
    refetchInterval: (query) => (query.state.data?.some(isPending) ? POLL_MS : false),
  });
  const redeliver = useMutation(
    trpc.runs.redeliver.mutationOptions({
      onSuccess: (updated) =>
        queryClient.setQueryData(queryKey, (before) =>
          before?.map((delivery) => (delivery.id === updated.id ? updated : delivery)),
        ),
    }),
  );
  const list = deliveries.data ?? [];
  const now = useNow(list.some(isPending), 1_000);

  if (deliveries.isError) {
    return (
      <section
        className="card"
        style={{ marginTop: 'var(--space-4)' }}
        aria-labelledby="callback-title"
      >
        <h2 id="callback-title">Callback</h2>
        <p className="alert error">{errorMessage(deliveries.error)}</p>
      </section>
    );
  }
  if (list.length === 0) return null;
  return (
    <section
      className="card stack"
      style={{ marginTop: 'var(--space-4)' }}
      aria-labelledby="callback-title"
    >
      <h2 id="callback-title">Callback</h2>
      {redeliver.error && (
        <div className="alert error" role="alert">
          Could not send it again: {errorMessage(redeliver.error)}
        </div>
      )}
      {list.map((delivery) => (
        <DeliveryDetails
          key={delivery.id}
          delivery={delivery}
          now={now}
          sending={redeliver.isPending && redeliver.variables?.deliveryId === delivery.id}
          onSendAgain={() => redeliver.mutate({ id: runId, deliveryId: delivery.id })}
        />
      ))}
    </section>
  );
}
