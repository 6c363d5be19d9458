'use client';
import { useInfiniteQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import {
  describeState,
  formatDuration,
  formatTime,
  runTitle,
  STATE_NAMES,
  type RunState,
} from '@/lib/format';
import { errorMessage, useTRPC } from '@/lib/trpc';

/** Every state, in STATE_NAMES' order (a Record over RunState: the compiler keeps it whole). */
const FILTERS = Object.keys(STATE_NAMES) as RunState[];

export function History() {
  const trpc = useTRPC();
  const [states, setStates] = useState<RunState[]>([]);
  const runs = useInfiniteQuery(
    trpc.runs.list.infiniteQueryOptions(
      { limit: 50, ...(states.length ? { states } : {}) },
      { getNextPageParam: (page) => page.nextCursor ?? undefined, refetchInterval: 5_000 },
    ),
  );
  const toggle = (state: RunState) =>
    setStates((current) =>
      current.includes(state) ? current.filter((s) => s !== state) : [...current, state],
    );
  const all = runs.data?.pages.flatMap((p) => p.runs) ?? [];

  return (
    <div>
      <h1>Your runs</h1>
      <div className="filters" role="group" aria-label="Filter by state">
        <button
          type="button"
          className="chip"
          aria-pressed={states.length === 0}
          onClick={() => setStates([])}
        >
          All
        </button>
        {FILTERS.map((state) => (
          <button
            key={state}
            type="button"
            className="chip"
            aria-pressed={states.includes(state)}
            onClick={() => toggle(state)}
          >
            {STATE_NAMES[state]}
          </button>
        ))}
      </div>
      <section className="card">
        {runs.isPending ? (
          <p className="muted">Loading your runs…</p>
        ) : runs.isError ? (
          <div className="alert error" role="alert">
            Could not load your runs: {errorMessage(runs.error)}
          </div>
        ) : all.length === 0 ? (
          <div className="empty">
            <div className="empty-title">
              {states.length ? 'No runs in these states' : 'No runs yet'}
            </div>
            <p>
              {states.length ? 'Try another filter, or ' : ''}
              <Link href="/">start a new run</Link>.
            </p>
          </div>
        ) : (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">State</th>
                <th scope="col">Queued</th>
                <th scope="col">Duration</th>
                <th scope="col">Lines</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {all.map((run) => {
                const words = describeState(run);
                return (
                  <tr key={run.id}>
                    <td>
                      <Link href={`/runs/${run.id}`}>{runTitle(run)}</Link>
                      <div className="muted small mono">{run.id.slice(0, 12)}</div>
                      {run.sessionId && (
                        <div className="small">
                          in session{' '}
                          <Link href={`/sessions/${run.sessionId}`} className="mono">
                            {run.sessionId.slice(0, 8)}
                          </Link>
                        </div>
                      )}
                    </td>
                    <td>
                      <span className={`badge tone-${words.tone}`}>{words.label}</span>
                    </td>
                    <td className="num">{formatTime(run.queuedAt)}</td>
                    <td className="num">{formatDuration(run.durationMs)}</td>
                    <td className="num">{run.outputLines?.toLocaleString('en') ?? '—'}</td>
                    <td>
                      <div className="row">
                        <Link
                          className="button"
                          href={`/runs/${run.id}`}
                          aria-label={`Open run ${run.id}`}
                        >
                          Open
                        </Link>
                        {/* A cell's code uses its session's variables: it runs again there,
                            not as a snippet. */}
                        {run.kind === 'cell' && run.sessionId ? (
                          <Link
                            className="button"
                            href={`/sessions/${run.sessionId}`}
                            aria-label={`Open the session of cell ${run.id}`}
                          >
                            Open session
                          </Link>
                        ) : (
                          <Link
                            className="button"
                            href={`/?again=${encodeURIComponent(run.id)}`}
                            aria-label={`Run again: ${run.id}`}
                          >
                            Run again
                          </Link>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        {runs.hasNextPage && (
          <div className="row" style={{ justifyContent: 'center', marginTop: 'var(--space-3)' }}>
            <button
              type="button"
              onClick={() => void runs.fetchNextPage()}
              disabled={runs.isFetchingNextPage}
            >
              {runs.isFetchingNextPage ? 'Loading…' : 'Load more'}
            </button>
          </div>
        )}
      </section>
    </div>
  );
}
