'use client';
import { useMutation } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { errorMessage, useTRPC, useTRPCClient } from '@/lib/trpc';

/** Close input and SIGINT for a run: its input box's and its terminal's alike. */
export function useInputControls() {
  const trpc = useTRPC();
  const closeInput = useMutation(trpc.runs.closeInput.mutationOptions());
  const signal = useMutation(trpc.runs.signal.mutationOptions());
  return {
    closeInput,
    signal,
    closed: closeInput.isSuccess,
    error: closeInput.error ?? signal.error,
  };
}

type InputControls = ReturnType<typeof useInputControls>;

/** The Close input and Send SIGINT buttons. */
export function InputControlButtons({ id, controls }: { id: string; controls: InputControls }) {
  const { closeInput, signal, closed } = controls;
  return (
    <>
      <button
        type="button"
        onClick={() => closeInput.mutate({ id })}
        disabled={closeInput.isPending || closed}
      >
        Close input
      </button>
      <button
        type="button"
        onClick={() => signal.mutate({ id, signal: 'SIGINT' })}
        disabled={signal.isPending}
      >
        Send SIGINT
      </button>
    </>
  );
}

/** What the last SIGINT did, once one was sent. */
export function SignalOutcome({ controls }: { controls: InputControls }) {
  const { data } = controls.signal;
  if (!data) return null;
  return (
    <p className="small muted" role="status">
      {data.delivered ? 'SIGINT sent.' : 'No program runs yet: SIGINT was not sent.'}
    </p>
  );
}

/**
 * The stdin of an interactive run (created with `interactive: true`): a line typed here goes to
 * the program with Enter (the line and "\n", through runs.sendInput), in the order typed; close
 * input gives it end of file; SIGINT goes to the program itself. The program reads a pipe, not a
 * terminal: nothing echoes what it reads, so the lines sent are listed here.
 */
export function RunInput({ id, ended }: { id: string; ended: boolean }) {
  const client = useTRPCClient();
  const [line, setLine] = useState('');
  const [sent, setSent] = useState<string[]>([]);
  const [sendError, setSendError] = useState<unknown>(null);
  // One send after the other: two lines typed quickly reach the program in their order.
  const queue = useRef<Promise<void>>(Promise.resolve());
  const controls = useInputControls();
  const { closed } = controls;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (ended || closed) return;
    const text = line;
    setLine('');
    queue.current = queue.current.then(async () => {
      try {
        await client.runs.sendInput.mutate({ id, data: `${text}\n` });
        setSent((before) => [...before, text]);
        setSendError(null);
      } catch (error) {
        setSendError(error);
      }
    });
  };

  const error = sendError ?? controls.error;
  return (
    <section
      className="card"
      style={{ marginTop: 'var(--space-4)' }}
      aria-labelledby="input-title"
      data-testid="run-input"
    >
      <h2 id="input-title">Input</h2>
      {ended ? (
        <p className="muted small">The run has ended: it takes no more input.</p>
      ) : closed ? (
        <p className="muted small" role="status">
          Input closed: the program reads end of file.
        </p>
      ) : (
        <form onSubmit={onSubmit} className="stack">
          <div className="field">
            <label htmlFor="run-input-line">
              A line for the program <span className="hint">(Enter sends it)</span>
            </label>
            <input
              id="run-input-line"
              className="mono"
              type="text"
              autoComplete="off"
              spellCheck={false}
              value={line}
              onChange={(e) => setLine(e.target.value)}
            />
          </div>
          <div className="row">
            <button type="submit" className="primary">
              Send
            </button>
            <InputControlButtons id={id} controls={controls} />
          </div>
        </form>
      )}
      <SignalOutcome controls={controls} />
      {error !== null && error !== undefined && (
        <div className="alert error" role="alert">
          {errorMessage(error)}
        </div>
      )}
      {sent.length > 0 && (
        <div>
          <h3 className="small">Lines sent</h3>
          <ol className="sent-lines mono small" data-testid="sent-lines">
            {sent.map((text, i) => (
              <li key={i}>{text === '' ? <span className="muted">(empty line)</span> : text}</li>
            ))}
          </ol>
        </div>
      )}
    </section>
  );
}
