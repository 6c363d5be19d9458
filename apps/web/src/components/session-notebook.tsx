'use client';
import type { RunView } from '@runbox/api';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { CodeEditor } from '@/components/code-editor';
import { SessionCell } from '@/components/session-cell';
import { SessionVariables } from '@/components/session-variables';
import { formatBytes, formatDuration, formatTime, isEnded } from '@/lib/format';
import {
  hibernationText,
  noticeWords,
  sessionStateWords,
  sessionTitle,
  type SessionFacts,
} from '@/lib/session-format';
import { errorDetails, errorMessage, useTRPC } from '@/lib/trpc';
import { useNow } from '@/lib/use-now';

/** Cells whose output is followed as the page opens; older ones show theirs on request. */
const FOLLOWED_CELLS = 12;
/** The session's state changes on the server (a sweep hibernates it): asked this often. */
const POLL_MS = 5_000;

/** The time left before the session hibernates, counting on (its own clock: not the page's). */
function HibernationLine({ facts }: { facts: SessionFacts }) {
  const now = useNow(facts.state === 'active' && !facts.busy, 1_000);
  return (
    <p className="small" data-testid="hibernation">
      {hibernationText(facts, now)}
    </p>
  );
}

/**
 * A session as a notebook (docs/sessions.md): its cells oldest first, each with its live output,
 * end state and value; the next cell's editor; the variables; interrupt, restart and close; how
 * long it has before it hibernates, and what a woken or restarted kernel kept.
 */
export function SessionNotebook({ id }: { id: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const detailKey = trpc.sessions.get.queryKey({ id });
  const session = useQuery({
    ...trpc.sessions.get.queryOptions({ id }),
    refetchInterval: POLL_MS,
    retry: false,
  });
  const [code, setCode] = useState('');
  // Cells this page saw end before the session's next answer says so.
  const [endedHere, setEndedHere] = useState<ReadonlySet<string>>(new Set());

  const refresh = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: detailKey });
    void queryClient.invalidateQueries({
      queryKey: trpc.sessions.variables.queryKey({ id }),
    });
  }, [queryClient, detailKey, trpc, id]);

  const onEnded = useCallback(
    (cellId: string) => {
      setEndedHere((before) => new Set(before).add(cellId));
      refresh();
    },
    [refresh],
  );

  const run = useMutation(
    trpc.sessions.run.mutationOptions({
      onSuccess: (cell: RunView) => {
        // Shown at once; the session's next answer has it too.
        queryClient.setQueryData(detailKey, (before) =>
          before && !before.cells.some((c) => c.id === cell.id)
            ? { ...before, busy: true, hibernatesAt: null, cells: [...before.cells, cell] }
            : before,
        );
        void queryClient.invalidateQueries({ queryKey: detailKey });
      },
    }),
  );
  const interrupt = useMutation(trpc.sessions.interrupt.mutationOptions({ onSuccess: refresh }));
  const restart = useMutation(trpc.sessions.restart.mutationOptions({ onSuccess: refresh }));
  const close = useMutation(trpc.sessions.close.mutationOptions({ onSuccess: refresh }));

  const view = session.data;
  // The variables come from the kernel or, without one, the snapshot: when the session falls
  // asleep, wakes or keeps a new snapshot (another tab's cell), they are asked again.
  const variablesSource = view ? `${view.state}/${view.kernel}/${view.snapshotAt ?? ''}` : null;
  const seenSource = useRef(variablesSource);
  useEffect(() => {
    if (variablesSource === seenSource.current) return;
    seenSource.current = variablesSource;
    void queryClient.invalidateQueries({ queryKey: trpc.sessions.variables.queryKey({ id }) });
  }, [variablesSource, queryClient, trpc, id]);
  const cells = view?.cells ?? [];
  const busy = cells.some((cell) => !isEnded(cell.state) && !endedHere.has(cell.id));
  const closed = view?.state === 'closed';

  const submit = (source: string) => {
    if (!source.trim() || closed || run.isPending) return;
    run.mutate(
      { sessionId: id, code: source },
      { onSuccess: () => setCode((current) => (current === source ? '' : current)) },
    );
  };
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    submit(code);
  };

  if (session.isPending) return <p className="muted">Loading the session…</p>;
  if (session.isError || !view) {
    return (
      <div className="empty" role="alert">
        <div className="empty-title">This session cannot be shown</div>
        <p>{errorMessage(session.error)}</p>
        <Link href="/sessions">See your sessions</Link>
      </div>
    );
  }

  const words = sessionStateWords({ state: view.state, busy });
  const notice = noticeWords(view.notice);
  const runError = run.error;
  const runDetails = errorDetails(runError);
  const actionError = interrupt.error ?? restart.error ?? close.error;
  const language = view.language;

  return (
    <div>
      <div className="run-head">
        <h1>{sessionTitle(language)}</h1>
        <span
          className={`badge tone-${words.tone}`}
          data-testid="session-state"
          data-state={view.state}
        >
          {words.label}
        </span>
        <span className="muted small mono" style={{ marginLeft: 'auto' }}>
          {view.id}
        </span>
      </div>
      {notice && (
        <div className="alert warn" role="status" data-testid="session-notice">
          <strong>{notice.title}</strong>
          {view.notice ? <span className="muted"> at {formatTime(view.notice.at)}</span> : null}
          <ul className="notice-lines">
            {notice.lines.map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </div>
      )}
      {actionError && (
        <div className="alert error" role="alert">
          {errorMessage(actionError)}
        </div>
      )}

      <div className="run-layout">
        <div>
          {cells.length === 0 ? (
            <div className="empty">
              <div className="empty-title">No cells yet</div>
              <p>Write code below and run it: what it defines stays for the next cell.</p>
            </div>
          ) : (
            cells.map((cell, index) => (
              <SessionCell
                key={cell.id}
                cell={cell}
                index={index + 1}
                followNow={index >= cells.length - FOLLOWED_CELLS}
                closed={closed}
                onEnded={onEnded}
                onEdit={setCode}
                onRunAgain={submit}
              />
            ))
          )}

          <form className="card" onSubmit={onSubmit} aria-labelledby="next-cell-title">
            <h2 id="next-cell-title">Next cell</h2>
            {closed ? (
              <p className="muted">This session is closed: it takes no more cells.</p>
            ) : (
              <>
                <CodeEditor
                  value={code}
                  language={language}
                  onChange={setCode}
                  label="Code of the next cell"
                  onRun={() => submit(code)}
                  compact
                />
                {runError && (
                  <div className="alert error" role="alert">
                    <strong>The cell was refused.</strong> {runError.message}
                    {runDetails?.line !== undefined && <> Line {runDetails.line}.</>}
                  </div>
                )}
                <div className="row" style={{ marginTop: 'var(--space-3)' }}>
                  <button
                    type="submit"
                    className="primary"
                    disabled={!code.trim() || run.isPending}
                  >
                    {run.isPending ? 'Sending…' : 'Run cell ▶'}
                  </button>
                  <span className="muted small">
                    <kbd>Shift</kbd>+<kbd>Enter</kbd> runs it too.
                    {view.state === 'hibernated' ? ' It wakes the session.' : ''}
                    {busy ? ' It waits for the cells before it.' : ''}
                  </span>
                </div>
              </>
            )}
          </form>
        </div>

        <aside>
          <section className="card" aria-labelledby="session-title">
            <h2 id="session-title">Session</h2>
            <HibernationLine
              facts={{
                state: view.state,
                busy,
                hibernatesAt: busy ? null : view.hibernatesAt,
                idleTtlMs: view.idleTtlMs,
                closeReason: view.closeReason,
              }}
            />
            <dl className="kv">
              <dt>Kernel</dt>
              <dd>{view.kernel === 'running' ? 'running' : 'stopped'}</dd>
              <dt>Memory</dt>
              <dd>
                {formatBytes(view.memoryBytes)}
                {view.limits.memoryBytes ? (
                  <span className="muted"> of {formatBytes(view.limits.memoryBytes)}</span>
                ) : null}
              </dd>
              <dt>Cells</dt>
              <dd>{cells.length}</dd>
              <dt>Started</dt>
              <dd>{formatTime(view.createdAt)}</dd>
              <dt>Last active</dt>
              <dd>{formatTime(view.lastActiveAt)}</dd>
              <dt>Closes at</dt>
              <dd>{closed ? formatTime(view.closedAt) : formatTime(view.expiresAt)}</dd>
              {view.limits.wallTimeMs ? (
                <>
                  <dt>Cell time limit</dt>
                  <dd>{formatDuration(view.limits.wallTimeMs)}</dd>
                </>
              ) : null}
            </dl>
            {!closed && (
              <div className="row" style={{ marginTop: 'var(--space-3)' }}>
                <button
                  type="button"
                  onClick={() => interrupt.mutate({ id })}
                  disabled={!busy || interrupt.isPending}
                  title="SIGINT to the running cell: it ends cancelled, the variables stay"
                >
                  Interrupt
                </button>
                <button
                  type="button"
                  onClick={() => restart.mutate({ id })}
                  disabled={restart.isPending}
                  title="A fresh kernel: every variable is gone, waiting cells are cancelled"
                >
                  {restart.isPending ? 'Restarting…' : 'Restart'}
                </button>
                <button
                  type="button"
                  className="danger"
                  onClick={() => close.mutate({ id })}
                  disabled={close.isPending}
                  title="Closed for good: the kernel ends; the cells stay in the history"
                >
                  Close
                </button>
              </div>
            )}
          </section>
          <SessionVariables id={id} busy={busy} closed={closed} />
          <div className="row">
            <Link className="button" href="/sessions">
              All sessions
            </Link>
          </div>
        </aside>
      </div>
    </div>
  );
}
