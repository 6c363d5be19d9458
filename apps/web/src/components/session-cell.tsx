'use client';
import type { RunView } from '@runbox/api';
import Link from 'next/link';
import { useEffect, useRef, useState } from 'react';
import { LogView } from '@/components/log-view';
import { advanceCellStatus, shownState, type CellStatus } from '@/lib/cell-status';
import { describeState, formatDuration, isEnded } from '@/lib/format';
import { LogStore } from '@/lib/log-store';
import { errorMessage, useTRPCClient } from '@/lib/trpc';

/**
 * One cell of a notebook: its code, its output as it is printed (the run's own log, through one
 * `runs.onOutput` subscription that also brings its state and end), its end state and value.
 * A cell is a run: its page has the rest (usage, artifacts).
 */
export function SessionCell(props: {
  cell: RunView;
  /** 1-based, oldest first. */
  index: number;
  /** Follow its output at once; an old cell waits for "Show output" (a socket holds 32). */
  followNow: boolean;
  /** The session takes no more cells. */
  closed: boolean;
  onEnded: (id: string) => void;
  onEdit: (code: string) => void;
  onRunAgain: (code: string) => void;
}) {
  const { cell, index } = props;
  const trpcClient = useTRPCClient();
  const [store] = useState(() => new LogStore());
  const [status, setStatus] = useState<CellStatus>({ state: cell.state, result: null });
  const [showOutput, setShowOutput] = useState(props.followNow || !isEnded(cell.state));
  const [outputError, setOutputError] = useState<unknown>(null);

  useEffect(() => {
    if (!showOutput) return;
    const subscription = trpcClient.runs.onOutput.subscribe(
      { id: cell.id },
      {
        onData: ({ data }) => {
          store.applyAll(data.events);
          setStatus((current) => data.events.reduce(advanceCellStatus, current));
        },
        onError: (error) => setOutputError(error),
      },
    );
    return () => subscription.unsubscribe();
  }, [trpcClient, cell.id, store, showOutput]);

  const state = shownState(status, cell.state);
  const ended = isEnded(state);
  // Heard once, when this page saw the cell end (not for cells that had ended before it opened).
  const wasLive = useRef(!isEnded(cell.state));
  const { onEnded } = props;
  useEffect(() => {
    if (ended && wasLive.current) {
      wasLive.current = false;
      onEnded(cell.id);
    }
  }, [ended, cell.id, onEnded]);

  const result = status.result;
  const words = describeState({
    state,
    exitCode: result?.exitCode ?? cell.exitCode,
    signal: result?.signal ?? cell.signal,
    limits: cell.limits,
    error: result?.error ?? cell.error,
  });
  const warnings = result?.warnings ?? cell.warnings;
  const value = result && 'value' in result ? result.value : cell.value;
  const error = result?.error ?? cell.error;
  const durationMs = result?.durationMs ?? cell.durationMs;
  const headingId = `cell-${cell.id}-title`;
  // Known once its events (replayed or live) reached the end: no log box for no lines.
  const printedNothing =
    showOutput && result !== null && store.lines.length === 0 && !store.truncated;

  return (
    <article
      className="cell card"
      aria-labelledby={headingId}
      data-testid="cell"
      data-cell-id={cell.id}
    >
      <div className="cell-head">
        <h2 id={headingId} className="cell-title">
          Cell {index}
        </h2>
        <span className={`badge tone-${words.tone}`} data-testid="cell-state" data-state={state}>
          {words.label}
        </span>
        {ended && durationMs !== null && (
          <span className="muted small">{formatDuration(durationMs)}</span>
        )}
        <div className="row cell-actions">
          <button
            type="button"
            onClick={() => props.onEdit(cell.code ?? '')}
            aria-label={`Edit cell ${index}: its code into the next cell`}
          >
            Edit
          </button>
          <button
            type="button"
            onClick={() => props.onRunAgain(cell.code ?? '')}
            disabled={props.closed}
            aria-label={`Run again: cell ${index}`}
          >
            Run again
          </button>
          <Link
            className="button"
            href={`/runs/${cell.id}`}
            aria-label={`Run page of cell ${index}`}
          >
            Run page
          </Link>
        </div>
      </div>
      <pre className="cell-code" aria-label={`Code of cell ${index}`}>
        <code>{cell.code}</code>
      </pre>
      {printedNothing ? (
        <p className="muted small cell-empty">This cell printed nothing.</p>
      ) : showOutput ? (
        <LogView
          store={store}
          runId={cell.id}
          live={!ended}
          compact
          label={`Output of cell ${index}`}
          emptyText={
            state === 'queued'
              ? 'Waiting for the cell before it…'
              : ended
                ? 'This cell printed nothing.'
                : 'Running…'
          }
        />
      ) : (
        <button type="button" onClick={() => setShowOutput(true)}>
          Show output{cell.outputLines ? ` (${cell.outputLines.toLocaleString('en')} lines)` : ''}
        </button>
      )}
      {outputError !== null && (
        <div className="alert error" role="alert">
          The live output stopped: {errorMessage(outputError)}
        </div>
      )}
      {(state === 'error' || state === 'failed') && error && (
        <div className="alert error" role="alert">
          {error}
        </div>
      )}
      {warnings.length > 0 && (
        <ul className="alert warn cell-warnings" aria-label={`Warnings of cell ${index}`}>
          {warnings.map((warning, i) => (
            <li key={i}>
              <strong>{warning.rule ?? warning.check}</strong>: {warning.message}
            </li>
          ))}
        </ul>
      )}
      {value !== undefined && value !== null && (
        <div className="cell-value" data-testid="cell-value">
          <span className="muted small">Value</span>
          <pre className="value-box">{JSON.stringify(value, null, 2)}</pre>
        </div>
      )}
    </article>
  );
}
