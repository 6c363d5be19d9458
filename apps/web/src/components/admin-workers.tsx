'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { errorMessage, useAdminTRPC } from '@/lib/trpc';

/** How often the list is asked again: a lease changes every third of its length at most. */
const POLL_MS = 2_000;

/** "just now", "4 s ago", "2 min ago": a heartbeat is seconds old when all is well. */
export function heartbeatAge(ms: number): string {
  if (ms < 1_000) return 'just now';
  const seconds = Math.round(ms / 1_000);
  if (seconds < 60) return `${seconds} s ago`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  return `${Math.round(minutes / 60)} h ago`;
}

/**
 * The workers of the redis driver: who they are, how busy, when each last said it is alive, its
 * self-test, and a drain (take no new run; running runs finish) or a resume. A worker hears a
 * drain at its next lease renewal, so until its lease says so the row says it was asked.
 */
export function WorkersSection({ enabled }: { enabled: boolean }) {
  const trpc = useAdminTRPC();
  const workers = useQuery({
    ...trpc.admin.workers.queryOptions(),
    enabled,
    refetchInterval: POLL_MS,
  });
  // What this page asked of each worker and its lease does not say yet.
  const [asked, setAsked] = useState<Readonly<Record<string, boolean>>>({});
  const drain = useMutation(
    trpc.admin.drainWorker.mutationOptions({
      onSuccess: (answer) => {
        setAsked((before) => ({ ...before, [answer.name]: answer.draining }));
        void workers.refetch();
      },
    }),
  );
  const list = workers.data?.workers;
  useEffect(() => {
    // Forget a request once the lease agrees, or the worker is gone.
    if (!list) return;
    setAsked((before) => {
      const still = Object.entries(before).filter(([name, draining]) =>
        list.some((worker) => worker.name === name && worker.draining !== draining),
      );
      return still.length === Object.keys(before).length ? before : Object.fromEntries(still);
    });
  }, [list]);

  const count = workers.data?.mode === 'redis' ? ` (${workers.data.workers.length})` : '';
  return (
    <section className="card" aria-labelledby="workers-title">
      <h2 id="workers-title">Workers{count}</h2>
      {drain.error && (
        <div className="alert error" role="alert">
          {errorMessage(drain.error)}
        </div>
      )}
      {workers.isPending ? (
        <p className="muted">Loading…</p>
      ) : workers.isError ? (
        <p className="alert error">{errorMessage(workers.error)}</p>
      ) : workers.data.mode === 'embedded' ? (
        <p className="muted">
          Runs run in this process: there are no workers (they come with RUNBOX_REDIS_URL).
        </p>
      ) : workers.data.workers.length === 0 ? (
        <p className="muted">
          No worker is alive: waiting runs stay in the queue until one starts.
        </p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Address</th>
              <th scope="col">Concurrency</th>
              <th scope="col">Running</th>
              <th scope="col">Sessions</th>
              <th scope="col">Last heartbeat</th>
              <th scope="col">Self-test</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {workers.data.workers.map((worker) => {
              const wanted = asked[worker.name];
              const pending = wanted !== undefined && wanted !== worker.draining;
              // The button offers the opposite of what was last asked (or of what the lease says).
              const draining = wanted ?? worker.draining;
              const busy = drain.isPending && drain.variables?.name === worker.name;
              return (
                <tr key={worker.name}>
                  <td className="mono">{worker.name}</td>
                  <td className="mono">{worker.address}</td>
                  <td className="num">{worker.concurrency}</td>
                  <td className="num">{worker.running}</td>
                  <td className="num">{worker.sessions}</td>
                  <td>
                    <time dateTime={new Date(worker.heartbeatAt).toISOString()}>
                      {heartbeatAge(worker.heartbeatAgeMs)}
                    </time>
                  </td>
                  <td>
                    {worker.selfTest === 'ok' ? (
                      <span className="badge tone-good">ok</span>
                    ) : (
                      <>
                        <span className="badge tone-bad">failed</span>{' '}
                        <span className="small">{worker.selfTest}</span>
                      </>
                    )}
                  </td>
                  <td>
                    {pending ? (
                      <span className="badge tone-busy">
                        {wanted ? 'asked to drain…' : 'asked to resume…'}
                      </span>
                    ) : worker.draining ? (
                      <span className="badge tone-warn">draining</span>
                    ) : (
                      <span className="badge tone-good">taking runs</span>
                    )}
                  </td>
                  <td>
                    <button
                      type="button"
                      className={draining ? undefined : 'danger'}
                      disabled={busy}
                      onClick={() => drain.mutate({ name: worker.name, draining: !draining })}
                      aria-label={`${draining ? 'Resume' : 'Drain'} worker ${worker.name}`}
                    >
                      {draining ? 'Resume' : 'Drain'}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
