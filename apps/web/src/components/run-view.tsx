'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import { LogView } from '@/components/log-view';
import { CallbackPanel } from '@/components/run-callbacks';
import { RunInput } from '@/components/run-input';
import { RunTerminal } from '@/components/run-terminal';
import { RunVerdict } from '@/components/run-verdict';
import {
  describeState,
  formatBytes,
  formatDuration,
  formatEstimate,
  formatTime,
  isEnded,
  ordinal,
  runTitle,
  type RunState,
} from '@/lib/format';
import { LogStore } from '@/lib/log-store';
import { TerminalFeed } from '@/lib/terminal-feed';
import { errorMessage, useTRPC, useTRPCClient } from '@/lib/trpc';
import { useNow } from '@/lib/use-now';

function QueueWidget(props: {
  position: number | null;
  running: number | null;
  estimatedWaitMs: number | null;
}) {
  const { position, running, estimatedWaitMs } = props;
  return (
    <div className="queue-widget" role="status" aria-live="polite" data-testid="queue-widget">
      <span className="queue-place" aria-hidden="true">
        {position ? `#${position}` : '…'}
      </span>
      <span>
        <strong>{position ? `${ordinal(position)} in line` : 'Waiting in line'}</strong>
        {running !== null ? `, ${running} running` : ''}
        {`, ${formatEstimate(estimatedWaitMs)}`}
      </span>
    </div>
  );
}

export function RunView({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const run = useQuery(trpc.runs.get.queryOptions({ id }));
  const [store] = useState(() => new LogStore());
  // A tty run's terminal: fed by the same subscription, dropped once the run proves not one.
  const [feed] = useState(() => new TerminalFeed());
  const [textOpen, setTextOpen] = useState(false);
  const lastState = useRef<RunState | null>(null);

  // The log bypasses React state: events go straight into the store, which re-renders the view
  // at most once a frame (a state update per event would stall on a fast printer).
  const trpcClient = useTRPCClient();
  const [outputError, setOutputError] = useState<unknown>(null);
  useEffect(() => {
    const subscription = trpcClient.runs.onOutput.subscribe(
      { id },
      {
        onData: ({ data }) => {
          store.applyAll(data.events);
          feed.applyAll(data.events);
        },
        onError: (error) => setOutputError(error),
      },
    );
    return () => subscription.unsubscribe();
  }, [trpcClient, id, store, feed]);
  const isTty = run.data ? run.data.tty !== undefined : null;
  useEffect(() => {
    if (isTty === false) feed.drop();
  }, [isTty, feed]);
  const status = useSubscription(trpc.runs.onStatus.subscriptionOptions({ id }));
  const live = status.data;

  const state: RunState | undefined = live?.state ?? run.data?.state;
  useEffect(() => {
    if (!state || state === lastState.current) return;
    const first = lastState.current === null;
    lastState.current = state;
    if (!first || isEnded(state)) {
      void queryClient.invalidateQueries({ queryKey: trpc.runs.get.queryKey({ id }) });
      void queryClient.invalidateQueries({ queryKey: trpc.runs.artifacts.queryKey({ id }) });
      // The run's callback delivery is stored with its end.
      void queryClient.invalidateQueries({ queryKey: trpc.runs.deliveries.queryKey({ id }) });
    }
  }, [state, id, queryClient, trpc]);

  const ended = state ? isEnded(state) : false;
  const artifacts = useQuery({ ...trpc.runs.artifacts.queryOptions({ id }), enabled: ended });
  const cancel = useMutation(trpc.runs.cancel.mutationOptions());
  const now = useNow(state === 'running' || state === 'queued');

  if (run.isPending) return <p className="muted">Loading the run…</p>;
  if (run.isError) {
    return (
      <div className="empty" role="alert">
        <div className="empty-title">This run cannot be shown</div>
        <p>{errorMessage(run.error)}</p>
        <Link href="/runs">See your runs</Link>
      </div>
    );
  }
  const view = run.data;
  const result = live?.result ?? null;
  const merged = {
    ...view,
    state: state ?? view.state,
    exitCode: result?.exitCode ?? view.exitCode,
    signal: result?.signal ?? view.signal,
    error: result?.error ?? view.error,
  };
  const words = describeState(merged);
  const warnings = result?.warnings ?? view.warnings;
  const verdict = result?.verdict ?? view.verdict;
  const env = Object.entries(view.env ?? {});
  const value = result && 'value' in result ? result.value : view.value;
  const startedAt = result?.startedAt ?? view.startedAt;
  const finishedAt = result?.finishedAt ?? view.finishedAt;
  const durationMs =
    result?.durationMs ?? view.durationMs ?? (startedAt && !ended ? now - startedAt : null);
  const usage = live?.usage;
  const memoryLimit = view.limits?.memoryBytes;

  return (
    <div>
      <div className="run-head">
        <h1>{runTitle(view)}</h1>
        <span
          className={`badge tone-${words.tone}`}
          data-testid="run-state"
          data-state={merged.state}
        >
          {words.label}
        </span>
        {!ended && (
          <button
            type="button"
            className="danger"
            onClick={() => cancel.mutate({ id })}
            disabled={cancel.isPending}
          >
            {cancel.isPending ? 'Cancelling…' : 'Cancel'}
          </button>
        )}
        <span className="muted small mono" style={{ marginLeft: 'auto' }}>
          {view.id}
        </span>
      </div>
      {view.kind === 'cell' && view.sessionId && (
        <p className="muted" data-testid="cell-of-session">
          A cell of a session: it ran with the variables the cells before it left.{' '}
          <Link href={`/sessions/${view.sessionId}`}>Open its session</Link>
        </p>
      )}
      {cancel.error && (
        <div className="alert error" role="alert">
          Could not cancel: {errorMessage(cancel.error)}
        </div>
      )}

      {merged.state === 'queued' && (
        <QueueWidget
          position={live?.position ?? view.position}
          running={live?.running ?? null}
          estimatedWaitMs={live?.estimatedWaitMs ?? view.estimatedWaitMs}
        />
      )}
      {status.status === 'error' && (
        <div className="alert error" role="alert">
          Live status stopped: {errorMessage(status.error)}
        </div>
      )}

      {merged.state === 'error' && merged.error && (
        <div className="alert error" role="alert">
          runbox could not run this: {merged.error}
        </div>
      )}
      {merged.state === 'failed' && merged.error && (
        <div className="alert error" role="alert">
          The run did not start: {merged.error}
        </div>
      )}
      {outputError !== null && (
        <div className="alert error" role="alert">
          The live output stopped: {errorMessage(outputError)}
        </div>
      )}

      <div className="run-layout">
        <div>
          {view.kind === 'cell' && view.code !== null && (
            <section className="card" aria-labelledby="cell-code-title">
              <h2 id="cell-code-title">Code</h2>
              <pre className="cell-code">
                <code>{view.code}</code>
              </pre>
            </section>
          )}
          {view.tty ? (
            <>
              {/* The terminal takes the typing: no input box besides it. */}
              <RunTerminal
                id={id}
                feed={feed}
                ended={ended}
                queued={merged.state === 'queued'}
                size={view.tty}
              />
              <details
                className="terminal-text"
                open={textOpen}
                onToggle={(e) => setTextOpen(e.currentTarget.open)}
              >
                <summary>
                  Output as text <span className="hint">(search, copy, download)</span>
                </summary>
                {textOpen && (
                  <LogView
                    store={store}
                    runId={id}
                    live={!ended}
                    label="Output as text"
                    emptyText={ended ? 'This run printed nothing.' : 'Nothing printed yet.'}
                  />
                )}
              </details>
            </>
          ) : (
            <LogView
              store={store}
              runId={id}
              live={!ended}
              emptyText={
                merged.state === 'queued'
                  ? 'Output appears here once the run starts.'
                  : ended
                    ? 'This run printed nothing.'
                    : 'Waiting for the first line…'
              }
            />
          )}
          {view.interactive && !view.tty && <RunInput id={id} ended={ended} />}
          {verdict && <RunVerdict verdict={verdict} />}
          {warnings.length > 0 && (
            <section
              className="card"
              style={{ marginTop: 'var(--space-4)' }}
              aria-labelledby="warnings-title"
            >
              <h2 id="warnings-title">Warnings</h2>
              <ul>
                {warnings.map((w, i) => (
                  <li key={i}>
                    <strong>{w.check}</strong>
                    {w.line ? ` (line ${w.line})` : ''}: {w.message}
                    {w.rule ? <span className="muted"> — rule {w.rule}</span> : null}
                  </li>
                ))}
              </ul>
            </section>
          )}
          {value !== undefined && value !== null && (
            <section
              className="card"
              style={{ marginTop: 'var(--space-4)' }}
              aria-labelledby="value-title"
            >
              <h2 id="value-title">Result value</h2>
              <pre className="value-box">{JSON.stringify(value, null, 2)}</pre>
            </section>
          )}
          <CallbackPanel runId={id} ended={ended} />
        </div>
        <aside>
          <section className="card" aria-labelledby="details-title">
            <h2 id="details-title">Details</h2>
            <dl className="kv">
              <dt>State</dt>
              <dd>{words.label}</dd>
              <dt>Exit code</dt>
              <dd>{merged.exitCode ?? '—'}</dd>
              {merged.signal && (
                <>
                  <dt>Signal</dt>
                  <dd>{merged.signal}</dd>
                </>
              )}
              <dt>Queued</dt>
              <dd>{formatTime(view.queuedAt)}</dd>
              <dt>Waited</dt>
              <dd>
                {startedAt
                  ? formatDuration(startedAt - view.queuedAt)
                  : ended
                    ? '—'
                    : formatDuration(now - view.queuedAt)}
              </dd>
              <dt>Ran for</dt>
              <dd>{formatDuration(durationMs)}</dd>
              {finishedAt && (
                <>
                  <dt>Finished</dt>
                  <dd>{formatTime(finishedAt)}</dd>
                </>
              )}
              <dt>CPU</dt>
              <dd>
                {formatDuration(
                  (ended ? (result?.usage.cpuMs ?? view.usage?.cpuMs) : usage?.cpuMs) ?? null,
                )}
              </dd>
              <dt>{ended ? 'Peak memory' : 'Memory'}</dt>
              <dd>
                {formatBytes(
                  (ended
                    ? (result?.usage.peakMemoryBytes ?? view.usage?.peakMemoryBytes)
                    : usage?.memoryBytes) ?? null,
                )}
                {memoryLimit ? <span className="muted"> of {formatBytes(memoryLimit)}</span> : null}
                {!ended && usage && memoryLimit ? (
                  <div className="meter" aria-hidden="true">
                    <span
                      style={{
                        width: `${Math.min(100, (usage.memoryBytes / memoryLimit) * 100)}%`,
                      }}
                    />
                  </div>
                ) : null}
              </dd>
              {view.args && view.args.length > 0 && (
                <>
                  <dt>Arguments</dt>
                  <dd>
                    <ol className="arg-list" data-testid="run-args">
                      {view.args.map((arg, i) => (
                        <li key={i}>
                          <code>{arg}</code>
                        </li>
                      ))}
                    </ol>
                  </dd>
                </>
              )}
              {env.length > 0 && (
                <>
                  <dt>Environment</dt>
                  <dd>
                    <ul className="arg-list" data-testid="run-env">
                      {env.map(([name, value]) => (
                        <li key={name}>
                          <code>
                            {name}={value}
                          </code>
                        </li>
                      ))}
                    </ul>
                  </dd>
                </>
              )}
              {view.interactive && (
                <>
                  <dt>Input</dt>
                  <dd>
                    {view.tty
                      ? `a terminal (created ${view.tty.cols}×${view.tty.rows})`
                      : 'interactive'}
                  </dd>
                </>
              )}
              {view.limits?.wallTimeMs && (
                <>
                  <dt>Time limit</dt>
                  <dd>{formatDuration(view.limits.wallTimeMs)}</dd>
                </>
              )}
            </dl>
          </section>
          <section className="card" aria-labelledby="artifacts-title">
            <h2 id="artifacts-title">Artifacts</h2>
            {!ended ? (
              <p className="muted small">Files the run makes are listed when it ends.</p>
            ) : artifacts.isPending ? (
              <p className="muted small">Loading…</p>
            ) : artifacts.isError ? (
              <p className="alert error">{errorMessage(artifacts.error)}</p>
            ) : artifacts.data.length === 0 ? (
              <p className="muted small">This run left no files.</p>
            ) : (
              <ul className="small" style={{ paddingLeft: '1.2em', margin: 0 }}>
                {artifacts.data.map((a) => (
                  <li key={a.path}>
                    {a.kind === 'file' ? (
                      <a
                        href={`/api/runs/${encodeURIComponent(id)}/artifacts/${a.path.split('/').map(encodeURIComponent).join('/')}`}
                        download
                      >
                        {a.path}
                      </a>
                    ) : (
                      <span>
                        {a.path}{' '}
                        <span className="muted">
                          ({a.kind}
                          {a.linkTarget ? ` → ${a.linkTarget}` : ''})
                        </span>
                      </span>
                    )}{' '}
                    <span className="muted">{formatBytes(a.size)}</span>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <div className="row">
            {/* A cell's code uses its session's variables: it runs again there. */}
            {view.kind === 'cell' && view.sessionId ? (
              <Link className="button" href={`/sessions/${view.sessionId}`}>
                Open session
              </Link>
            ) : (
              <Link className="button" href={`/?again=${encodeURIComponent(view.id)}`}>
                Run again
              </Link>
            )}
            <Link className="button" href="/runs">
              All runs
            </Link>
          </div>
        </aside>
      </div>
    </div>
  );
}
