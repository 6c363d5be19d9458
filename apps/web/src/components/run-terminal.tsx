'use client';
// xterm's own stylesheet, bundled with the app's CSS (nothing is fetched at run time).
import '@xterm/xterm/css/xterm.css';
import type { ITheme, Terminal } from '@xterm/xterm';
import { useEffect, useId, useRef, useState } from 'react';
import { InputControlButtons, SignalOutcome, useInputControls } from '@/components/run-input';
import { InputBatcher } from '@/lib/input-batcher';
import type { TerminalFeed } from '@/lib/terminal-feed';
import { ResizeDebouncer, type TerminalSize } from '@/lib/terminal-size';
import { errorMessage, useTRPCClient } from '@/lib/trpc';

/** How long the size must stay put before the program hears of it (SIGWINCH). */
const RESIZE_DEBOUNCE_MS = 250;
/** How many frames a fit waits at most for xterm to have measured its cells. */
const FIT_FRAMES = 60;

const FONT_FAMILY =
  "ui-monospace, 'SFMono-Regular', 'Cascadia Mono', 'DejaVu Sans Mono', 'Liberation Mono', Menlo, monospace";

/** Dark in both page themes, as terminals are; the page's dark ANSI palette. */
const THEME: ITheme = {
  background: '#0d0f12',
  foreground: '#dfe2e8',
  cursor: '#dfe2e8',
  cursorAccent: '#0d0f12',
  selectionBackground: '#3a4a6b',
  black: '#3b4048',
  red: '#ff6b6b',
  green: '#5fd38a',
  yellow: '#f3c266',
  blue: '#7aa2ff',
  magenta: '#e08cf0',
  cyan: '#5fd0e0',
  white: '#dfe2e8',
  brightBlack: '#7d8591',
  brightRed: '#ff8f8f',
  brightGreen: '#8af0ad',
  brightYellow: '#ffd98a',
  brightBlue: '#a5c0ff',
  brightMagenta: '#f0b0fa',
  brightCyan: '#8ae8f3',
  brightWhite: '#ffffff',
};

function labelInput(term: Terminal, ended: boolean, hintId: string): void {
  const input = term.textarea;
  if (!input) return;
  input.setAttribute(
    'aria-label',
    ended ? 'Terminal of the run (read-only: the run has ended)' : 'Terminal of the run',
  );
  input.setAttribute('aria-describedby', hintId);
  if (ended) input.setAttribute('aria-readonly', 'true');
  else input.removeAttribute('aria-readonly');
}

/** An ended run's terminal takes no more keys and shows no cursor. */
function applyEnded(term: Terminal, ended: boolean, hintId: string): void {
  term.options.disableStdin = ended;
  term.options.cursorBlink = !ended;
  term.options.cursorInactiveStyle = ended ? 'none' : 'outline';
  if (ended) term.write('\x1b[?25l');
  labelInput(term, ended, hintId);
}

/**
 * The terminal of a run created with `tty`: shows what the program writes (escape sequences and
 * all, replayed from the start on load and after a reconnect, through `feed`), sends what is
 * typed into it to the program as typed (runs.sendInput; the terminal on the server echoes it),
 * and fits itself to its box, telling the program its new size (runs.resize, SIGWINCH). When the
 * run ends it is read-only. Tab goes to the program; Shift+Tab leaves the terminal.
 */
export function RunTerminal(props: {
  id: string;
  feed: TerminalFeed;
  ended: boolean;
  queued: boolean;
  /** The size the run was created with: what the program has until the first resize. */
  size: TerminalSize;
}) {
  const { id, feed, ended } = props;
  const client = useTRPCClient();
  const hintId = useId();
  const boxRef = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const endedRef = useRef(ended);
  const initialSize = useRef(props.size);
  const [ready, setReady] = useState(false);
  const [size, setSize] = useState<TerminalSize>(props.size);
  const [inputError, setInputError] = useState<unknown>(null);
  const [resizeError, setResizeError] = useState<unknown>(null);
  const [screenReader, setScreenReader] = useState(false);
  const controls = useInputControls();

  useEffect(() => {
    let disposed = false;
    let cleanUp = () => {};
    void (async () => {
      // Loaded in the browser only: xterm needs a document, and the page renders on the server.
      const [{ Terminal }, { FitAddon }] = await Promise.all([
        import('@xterm/xterm'),
        import('@xterm/addon-fit'),
      ]);
      const box = boxRef.current;
      if (disposed || !box) return;
      const term = new Terminal({
        cols: initialSize.current.cols,
        rows: initialSize.current.rows,
        fontFamily: FONT_FAMILY,
        fontSize: 13,
        scrollback: 5000,
        theme: THEME,
        cursorBlink: true,
      });
      const fit = new FitAddon();
      term.loadAddon(fit);
      term.open(box);
      // Shift+Tab (and Tab once the run has ended) moves focus on, as anywhere on the page:
      // the terminal is no keyboard trap. Tab itself is the program's (completion).
      term.attachCustomKeyEventHandler(
        (event) => !(event.key === 'Tab' && (event.shiftKey || endedRef.current)),
      );

      const batcher = new InputBatcher({
        send: (data) => client.runs.sendInput.mutate({ id, data }),
        onError: (error) => {
          if (!endedRef.current) setInputError(error);
        },
        onSent: () => setInputError(null),
      });
      const typed = term.onData((data) => {
        if (!endedRef.current) batcher.push(data);
      });

      const resizer = new ResizeDebouncer(
        (next) => {
          if (endedRef.current) return;
          client.runs.resize.mutate({ id, ...next }).then(
            () => setResizeError(null),
            (error: unknown) => {
              if (!endedRef.current) setResizeError(error);
            },
          );
        },
        { delayMs: RESIZE_DEBOUNCE_MS, initial: initialSize.current },
      );
      const resized = term.onResize((next) => {
        setSize(next);
        resizer.request(next);
      });
      const detach = feed.attach((data) => term.write(data));
      // After the replay: an ended run's output may show the cursor again at its end.
      applyEnded(term, endedRef.current, hintId);
      // Fits the terminal to its box. xterm measures its cells once it has rendered, and until
      // then (or while the box has no size) proposes nothing: tried again on the next frames.
      let frame = 0;
      const attemptFit = (triesLeft: number) => {
        if (box.clientWidth > 0 && box.clientHeight > 0 && fit.proposeDimensions()) fit.fit();
        else if (triesLeft > 0) frame = requestAnimationFrame(() => attemptFit(triesLeft - 1));
      };
      const refit = () => {
        cancelAnimationFrame(frame);
        attemptFit(FIT_FRAMES);
      };
      const observer = new ResizeObserver(refit);
      observer.observe(box);
      // The monospace font may arrive after the first measure, with other cell sizes.
      void document.fonts.ready.then(() => {
        if (termRef.current === term) refit();
      });
      refit();
      termRef.current = term;
      setReady(true);
      cleanUp = () => {
        cancelAnimationFrame(frame);
        observer.disconnect();
        resizer.cancel();
        detach();
        typed.dispose();
        resized.dispose();
        batcher.clear();
        term.dispose();
        termRef.current = null;
      };
    })();
    return () => {
      disposed = true;
      cleanUp();
    };
  }, [id, feed, client, hintId]);

  useEffect(() => {
    endedRef.current = ended;
    const term = termRef.current;
    if (term) applyEnded(term, ended, hintId);
  }, [ended, ready, hintId]);

  useEffect(() => {
    if (termRef.current) termRef.current.options.screenReaderMode = screenReader;
  }, [screenReader, ready]);

  const { closed } = controls;
  const error = inputError ?? resizeError ?? controls.error;
  return (
    <section
      className="card terminal-card"
      aria-labelledby="terminal-title"
      data-testid="run-terminal"
    >
      <div className="terminal-head">
        <h2 id="terminal-title">Terminal</h2>
        <span className="muted small mono" data-testid="terminal-size">
          {size.cols}×{size.rows}
        </span>
        <div className="row terminal-actions">
          <button
            type="button"
            aria-pressed={screenReader}
            onClick={() => setScreenReader((on) => !on)}
            title="Lets a screen reader read the terminal's lines"
          >
            Screen reader mode
          </button>
          {!ended && <InputControlButtons id={id} controls={controls} />}
        </div>
      </div>
      <div ref={boxRef} className="terminal-box" data-testid="terminal" data-ready={ready} />
      <p id={hintId} className="hint small" data-testid="terminal-hint">
        {ended
          ? 'The run has ended: its terminal is read-only. Tab moves on.'
          : props.queued
            ? 'The program starts once the run leaves the queue; what you type now waits for it.'
            : closed
              ? 'Input closed: the program reads end of file; keys typed now are not sent.'
              : 'Click the terminal (or Tab to it) and type: keys go to the program as typed, Ctrl-C interrupts, Ctrl-D at the start of a line is end of file. Shift+Tab leaves the terminal.'}
      </p>
      <SignalOutcome controls={controls} />
      {error !== null && error !== undefined && !ended && (
        <div className="alert error" role="alert" data-testid="terminal-error">
          {inputError ? 'Not sent: ' : resizeError ? 'Size not changed: ' : ''}
          {errorMessage(error)}
        </div>
      )}
    </section>
  );
}
