import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PLAIN, type AnsiStyle } from './ansi';
import {
  LogStore,
  type LogLine,
  type OutputEvent,
  type StreamName,
  type TruncatedEvent,
} from './log-store';

const ESC = '\x1b';
const RED = `${ESC}[31m`;
const BOLD = `${ESC}[1m`;
const RESET = `${ESC}[0m`;

function style(overrides: Partial<AnsiStyle>): AnsiStyle {
  return { ...PLAIN, ...overrides };
}

const red = style({ fg: 'var(--ansi-red)' });

function out(
  seq: number,
  stream: StreamName,
  text: string,
  flags: { partial?: boolean; continuation?: boolean } = {},
): OutputEvent {
  return {
    seq,
    type: 'output',
    stream,
    text,
    partial: flags.partial ?? false,
    continuation: flags.continuation ?? false,
  };
}

function truncated(seq: number, overrides: Partial<TruncatedEvent> = {}): TruncatedEvent {
  return {
    seq,
    type: 'truncated',
    reason: 'bytes',
    limit: 1_048_576,
    droppedBytes: 512,
    ...overrides,
  };
}

/** Applies events with consecutive seqs from 1. */
function storeWith(...events: Omit<OutputEvent, 'seq'>[]): LogStore {
  const store = new LogStore();
  events.forEach((event, i) => expect(store.apply({ ...event, seq: i + 1 })).toBe(true));
  return store;
}

function o(
  stream: StreamName,
  text: string,
  flags: { partial?: boolean; continuation?: boolean } = {},
): Omit<OutputEvent, 'seq'> {
  const { seq: _seq, ...rest } = out(0, stream, text, flags);
  return rest;
}

function texts(store: LogStore): string[] {
  return store.lines.map((line) => line.text);
}

function summary(store: LogStore): Pick<LogLine, 'stream' | 'text'>[] {
  return store.lines.map(({ stream, text }) => ({ stream, text }));
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('LogStore: sequence numbers', () => {
  it('starts empty', () => {
    const store = new LogStore();
    expect(store.lines).toEqual([]);
    expect(store.truncated).toBeNull();
    expect(store.seq).toBe(0);
    expect(store.version).toBe(0);
    expect(store.getVersion()).toBe(0);
    expect(store.toText()).toBe('');
  });

  it('applies new events and remembers the highest seq', () => {
    const store = new LogStore();
    expect(store.apply(out(1, 'stdout', 'one'))).toBe(true);
    expect(store.apply(out(2, 'stdout', 'two'))).toBe(true);
    expect(store.seq).toBe(2);
    expect(texts(store)).toEqual(['one', 'two']);
  });

  it('drops a duplicate and returns false for it', () => {
    const store = new LogStore();
    store.apply(out(1, 'stdout', 'one'));
    expect(store.apply(out(1, 'stdout', 'one'))).toBe(false);
    expect(store.apply(out(1, 'stderr', 'different text, same seq'))).toBe(false);
    expect(texts(store)).toEqual(['one']);
    expect(store.seq).toBe(1);
  });

  it('drops events older than the newest one applied', () => {
    const store = new LogStore();
    store.apply(out(5, 'stdout', 'five'));
    expect(store.apply(out(3, 'stdout', 'three'))).toBe(false);
    expect(store.apply(truncated(4))).toBe(false);
    expect(store.truncated).toBeNull();
    expect(texts(store)).toEqual(['five']);
    expect(store.seq).toBe(5);
  });

  it('accepts gaps in the sequence', () => {
    const store = new LogStore();
    expect(store.apply(out(1, 'stdout', 'a'))).toBe(true);
    expect(store.apply(out(10, 'stdout', 'b'))).toBe(true);
    expect(store.apply(out(7, 'stdout', 'late'))).toBe(false);
    expect(texts(store)).toEqual(['a', 'b']);
  });

  it('accepts events of other types, advancing the seq without changing the log', () => {
    const store = new LogStore();
    expect(store.apply({ seq: 1, type: 'state' })).toBe(true);
    expect(store.apply({ seq: 2, type: 'usage' })).toBe(true);
    expect(store.seq).toBe(2);
    expect(store.lines).toEqual([]);
    expect(store.apply(out(2, 'stdout', 'same seq as the usage event'))).toBe(false);
    expect(store.apply({ seq: 2, type: 'end' })).toBe(false);
  });

  it('applies a batch, dropping what was already applied (a resumed subscription)', () => {
    const store = new LogStore();
    store.applyAll([out(1, 'stdout', 'a'), out(2, 'stderr', 'b'), { seq: 3, type: 'state' }]);
    expect(store.seq).toBe(3);
    // The resumed batch repeats 2 and 3, then goes on.
    store.applyAll([out(2, 'stderr', 'b'), { seq: 3, type: 'state' }, out(4, 'stdout', 'c')]);
    expect(summary(store)).toEqual([
      { stream: 'stdout', text: 'a' },
      { stream: 'stderr', text: 'b' },
      { stream: 'stdout', text: 'c' },
    ]);
    expect(store.seq).toBe(4);
  });

  it('applies a batch in order, so an out-of-order event inside it is dropped', () => {
    const store = new LogStore();
    store.applyAll([out(1, 'stdout', 'a'), out(3, 'stdout', 'c'), out(2, 'stdout', 'b')]);
    expect(texts(store)).toEqual(['a', 'c']);
  });

  it('does not re-apply a partial line and its continuation when they come twice', () => {
    const store = new LogStore();
    const events = [
      out(1, 'stdout', 'Load', { partial: true }),
      out(2, 'stdout', 'ing', { partial: true, continuation: true }),
      out(3, 'stdout', '', { continuation: true }),
    ];
    store.applyAll(events);
    store.applyAll(events);
    expect(texts(store)).toEqual(['Loading']);
  });
});

describe('LogStore: lines', () => {
  it('stores a complete line', () => {
    const store = storeWith(o('stdout', 'hello'));
    expect(store.lines).toEqual([
      { stream: 'stdout', text: 'hello', segments: null, startStyle: PLAIN, raw: null },
    ]);
  });

  it('splits an event into lines', () => {
    expect(texts(storeWith(o('stdout', 'a\nb\nc')))).toEqual(['a', 'b', 'c']);
  });

  it('does not make a line of a single trailing newline', () => {
    expect(texts(storeWith(o('stdout', 'a\nb\n')))).toEqual(['a', 'b']);
    expect(texts(storeWith(o('stdout', 'a\n')))).toEqual(['a']);
  });

  it('keeps blank lines', () => {
    expect(texts(storeWith(o('stdout', 'a\n\nb')))).toEqual(['a', '', 'b']);
    expect(texts(storeWith(o('stdout', 'a\n\n')))).toEqual(['a', '']);
    expect(texts(storeWith(o('stdout', '')))).toEqual(['']);
    expect(texts(storeWith(o('stdout', '\n')))).toEqual(['']);
    expect(texts(storeWith(o('stdout', ''), o('stdout', '')))).toEqual(['', '']);
  });

  it('treats CRLF as one line end', () => {
    const store = storeWith(o('stdout', 'a\r\nb\r\n'), o('stderr', 'c\r\n'), o('stdout', 'd\r'));
    expect(texts(store)).toEqual(['a', 'b', 'c', 'd']);
    expect(store.lines.every((line) => line.raw === null)).toBe(true);
  });

  it('joins a CRLF whose LF comes in the next event', () => {
    const store = storeWith(
      o('stdout', 'abc\r', { partial: true }),
      o('stdout', '\n', { continuation: true }),
    );
    expect(texts(store)).toEqual(['abc']);
  });

  it('keeps carriage returns inside a line out of the text', () => {
    const store = storeWith(o('stdout', '10%\r20%\r30%'));
    expect(store.lines).toHaveLength(1);
    expect(store.lines[0]?.text).not.toContain('\r');
    expect(store.lines[0]?.text).toContain('30%');
  });

  it('records the stream of every line', () => {
    const store = storeWith(o('stdout', 'out'), o('stderr', 'err\nerr2'), o('stdout', 'out2'));
    expect(summary(store)).toEqual([
      { stream: 'stdout', text: 'out' },
      { stream: 'stderr', text: 'err' },
      { stream: 'stderr', text: 'err2' },
      { stream: 'stdout', text: 'out2' },
    ]);
  });

  it('keeps markup as literal text', () => {
    const store = storeWith(o('stdout', `${RED}<img src=x onerror=alert(1)>`));
    expect(store.lines[0]?.text).toBe('<img src=x onerror=alert(1)>');
    expect(store.lines[0]?.segments).toEqual([
      { text: '<img src=x onerror=alert(1)>', style: red },
    ]);
  });

  it('drops escapes other than colours from the text', () => {
    const store = storeWith(o('stdout', `${ESC}]8;;https://evil.example/\x07link${ESC}]8;;\x07`));
    expect(store.lines[0]?.text).toBe('link');
    expect(store.toText()).toBe('link');
  });
});

describe('LogStore: partial lines', () => {
  it('keeps a partial line open and joins its continuation onto it', () => {
    const store = new LogStore();
    store.apply(out(1, 'stdout', 'Loading', { partial: true }));
    expect(store.lines).toEqual([
      { stream: 'stdout', text: 'Loading', segments: null, startStyle: PLAIN, raw: 'Loading' },
    ]);
    store.apply(out(2, 'stdout', '...', { partial: true, continuation: true }));
    expect(texts(store)).toEqual(['Loading...']);
    expect(store.lines[0]?.raw).toBe('Loading...');
    store.apply(out(3, 'stdout', ' done', { continuation: true }));
    expect(store.lines).toEqual([
      { stream: 'stdout', text: 'Loading... done', segments: null, startStyle: PLAIN, raw: null },
    ]);
  });

  it('closes a partial line with an empty continuation', () => {
    const store = storeWith(
      o('stdout', 'abc', { partial: true }),
      o('stdout', '', { continuation: true }),
      o('stdout', 'next'),
    );
    expect(texts(store)).toEqual(['abc', 'next']);
    expect(store.lines[0]?.raw).toBeNull();
  });

  it('starts a new line for the event after a closed line, even if it says continuation', () => {
    const store = storeWith(
      o('stdout', 'a', { partial: true }),
      o('stdout', 'b', { continuation: true }),
      o('stdout', 'c', { continuation: true }),
    );
    expect(texts(store)).toEqual(['ab', 'c']);
  });

  it('starts a new line for a continuation when nothing was open', () => {
    expect(texts(storeWith(o('stdout', 'orphan', { continuation: true })))).toEqual(['orphan']);
  });

  it('continues only the first piece of a multi-line continuation', () => {
    const store = storeWith(
      o('stdout', 'a', { partial: true }),
      o('stdout', 'b\nc\nd', { continuation: true, partial: true }),
    );
    expect(texts(store)).toEqual(['ab', 'c', 'd']);
    expect(store.lines.map((line) => line.raw)).toEqual([null, null, 'd']);
    store.apply(out(3, 'stdout', 'e', { continuation: true }));
    expect(texts(store)).toEqual(['ab', 'c', 'de']);
  });

  it('keeps only the last piece of a multi-line partial event open', () => {
    const store = storeWith(
      o('stdout', 'x\ny', { partial: true }),
      o('stdout', 'z', { continuation: true }),
    );
    expect(texts(store)).toEqual(['x', 'yz']);
  });

  it('does not mix interleaved partial lines of stdout and stderr', () => {
    const store = storeWith(
      o('stdout', 'out-', { partial: true }),
      o('stderr', 'err-', { partial: true }),
      o('stdout', '1', { partial: true, continuation: true }),
      o('stderr', '2', { continuation: true }),
      o('stdout', '3', { continuation: true }),
    );
    expect(summary(store)).toEqual([
      { stream: 'stdout', text: 'out-13' },
      { stream: 'stderr', text: 'err-2' },
    ]);
    expect(store.toText()).toBe('out-13\n[stderr] err-2');
  });

  it('does not join a continuation onto the open line of the other stream', () => {
    const store = storeWith(
      o('stdout', 'open', { partial: true }),
      o('stderr', 'other', { continuation: true }),
    );
    expect(summary(store)).toEqual([
      { stream: 'stdout', text: 'open' },
      { stream: 'stderr', text: 'other' },
    ]);
    expect(store.lines[0]?.raw).toBe('open');
  });

  it('joins a continuation onto the open line even after complete lines of the other stream', () => {
    const store = storeWith(
      o('stdout', 'progress: ', { partial: true }),
      o('stderr', 'warning 1\nwarning 2'),
      o('stdout', 'done', { continuation: true }),
    );
    expect(summary(store)).toEqual([
      { stream: 'stdout', text: 'progress: done' },
      { stream: 'stderr', text: 'warning 1' },
      { stream: 'stderr', text: 'warning 2' },
    ]);
  });

  it('leaves a partial line as it is when a new line (not a continuation) comes', () => {
    const store = storeWith(
      o('stdout', 'first', { partial: true }),
      o('stdout', 'second', { partial: true }),
      o('stdout', '!', { continuation: true }),
    );
    expect(texts(store)).toEqual(['first', 'second!']);
  });

  it('reads an escape split across a partial line and its continuation', () => {
    const store = storeWith(
      o('stdout', `x${ESC}[3`, { partial: true }),
      o('stdout', '1my', { continuation: true }),
    );
    expect(store.lines).toHaveLength(1);
    expect(store.lines[0]?.text).toBe('xy');
    expect(store.lines[0]?.segments).toEqual([
      { text: 'x', style: null },
      { text: 'y', style: red },
    ]);
    // The style read from the joined line carries to the next line.
    store.apply(out(3, 'stdout', 'z'));
    expect(store.lines[1]?.startStyle).toEqual(red);
    expect(store.lines[1]?.segments).toEqual([{ text: 'z', style: red }]);
  });

  it('hides a hyperlink whose OSC is split across a partial line and its continuation', () => {
    const store = storeWith(
      o('stdout', `a${ESC}]8;;https://evil.exa`, { partial: true }),
      o('stdout', 'mple/\x07link', { continuation: true }),
    );
    expect(texts(store)).toEqual(['alink']);
    expect(store.toText()).not.toContain('evil');
  });

  it('handles a long line sent as many partial pieces', () => {
    const store = new LogStore();
    const pieces = Array.from({ length: 200 }, (_, i) => `${i % 10}`.repeat(50));
    pieces.forEach((piece, i) =>
      store.apply(out(i + 1, 'stdout', piece, { partial: true, continuation: i > 0 })),
    );
    store.apply(out(201, 'stdout', '', { continuation: true }));
    expect(store.lines).toHaveLength(1);
    expect(store.lines[0]?.text).toBe(pieces.join(''));
    expect(store.lines[0]?.raw).toBeNull();
  });
});

describe('LogStore: styles across lines', () => {
  it('carries a style from one line to the next of the same stream', () => {
    const store = storeWith(o('stdout', `${RED}red`), o('stdout', 'still red'));
    expect(store.lines[1]).toEqual({
      stream: 'stdout',
      text: 'still red',
      segments: [{ text: 'still red', style: red }],
      startStyle: red,
      raw: null,
    });
  });

  it('carries a style across the lines of one event', () => {
    const store = storeWith(o('stdout', `${BOLD}one\ntwo\n${RESET}three`));
    const bold = style({ bold: true });
    expect(store.lines.map((line) => line.segments)).toEqual([
      [{ text: 'one', style: bold }],
      [{ text: 'two', style: bold }],
      null,
    ]);
    expect(store.lines.map((line) => line.startStyle)).toEqual([PLAIN, bold, bold]);
  });

  it('keeps the styles of stdout and stderr apart', () => {
    const store = storeWith(
      o('stdout', `${RED}red out`),
      o('stderr', 'plain err'),
      o('stdout', 'red again'),
      o('stderr', `${BOLD}bold err`),
      o('stdout', 'still red'),
      o('stderr', 'still bold'),
    );
    expect(store.lines.map((line) => line.startStyle)).toEqual([
      PLAIN,
      PLAIN,
      red,
      PLAIN,
      red,
      style({ bold: true }),
    ]);
    expect(store.lines[1]?.segments).toBeNull();
  });

  it('stops carrying a style after a reset', () => {
    const store = storeWith(o('stdout', `${RED}red${RESET}`), o('stdout', 'plain'));
    expect(store.lines[1]).toEqual({
      stream: 'stdout',
      text: 'plain',
      segments: null,
      startStyle: PLAIN,
      raw: null,
    });
  });

  it('carries a style set in a continuation to the following lines', () => {
    const store = storeWith(
      o('stdout', 'a', { partial: true }),
      o('stdout', `b${BOLD}\nc`, { continuation: true }),
    );
    expect(texts(store)).toEqual(['ab', 'c']);
    expect(store.lines[1]?.startStyle).toEqual(style({ bold: true }));
    expect(store.lines[1]?.segments).toEqual([{ text: 'c', style: style({ bold: true }) }]);
  });

  it('reads a continuation in the style the open line started with', () => {
    const store = storeWith(
      o('stdout', `${RED}first`),
      o('stdout', 'x', { partial: true }),
      o('stdout', `${RESET}y`, { continuation: true }),
    );
    expect(store.lines[1]?.startStyle).toEqual(red);
    expect(store.lines[1]?.segments).toEqual([
      { text: 'x', style: red },
      { text: 'y', style: null },
    ]);
  });
});

describe('LogStore: truncation and text', () => {
  it('records the truncated event', () => {
    const store = new LogStore();
    store.apply(out(1, 'stdout', 'a'));
    const event = truncated(2, { reason: 'lines', limit: 10_000, droppedBytes: 0 });
    expect(store.apply(event)).toBe(true);
    expect(store.truncated).toEqual(event);
    expect(store.seq).toBe(2);
    expect(texts(store)).toEqual(['a']);
  });

  it('marks stderr lines in the text', () => {
    const store = storeWith(
      o('stdout', 'out 1'),
      o('stderr', 'err 1\nerr 2'),
      o('stdout', ''),
      o('stdout', `${RED}coloured`),
    );
    expect(store.toText()).toBe('out 1\n[stderr] err 1\n[stderr] err 2\n\ncoloured');
  });

  it('includes an open partial line in the text', () => {
    const store = storeWith(o('stdout', 'done'), o('stderr', 'half a li', { partial: true }));
    expect(store.toText()).toBe('done\n[stderr] half a li');
  });
});

describe('LogStore: listeners', () => {
  it('runs in an environment without requestAnimationFrame', () => {
    expect(typeof globalThis.requestAnimationFrame).toBe('undefined');
  });

  it('notifies listeners once, 100 ms after a change, when there is no animation frame', () => {
    const store = new LogStore();
    const listener = vi.fn(() => store.getVersion());
    store.subscribe(listener);
    store.apply(out(1, 'stdout', 'a'));
    store.apply(out(2, 'stdout', 'b'));
    store.apply(truncated(3));
    expect(listener).not.toHaveBeenCalled();
    expect(store.version).toBe(0);
    vi.advanceTimersByTime(99);
    expect(listener).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(listener).toHaveBeenCalledTimes(1);
    // The version is raised before listeners hear of the change.
    expect(listener).toHaveLastReturnedWith(1);
    expect(store.version).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('schedules again after a notification', () => {
    const store = new LogStore();
    const listener = vi.fn();
    store.subscribe(listener);
    store.apply(out(1, 'stdout', 'a'));
    vi.advanceTimersByTime(100);
    store.apply(out(2, 'stdout', 'b'));
    vi.advanceTimersByTime(100);
    expect(listener).toHaveBeenCalledTimes(2);
    expect(store.getVersion()).toBe(2);
  });

  it('does not notify for duplicates or events of other types', () => {
    const store = new LogStore();
    const listener = vi.fn();
    store.subscribe(listener);
    store.apply(out(1, 'stdout', 'a'));
    vi.advanceTimersByTime(100);
    expect(listener).toHaveBeenCalledTimes(1);
    store.apply(out(1, 'stdout', 'a'));
    store.apply({ seq: 2, type: 'state' });
    store.apply({ seq: 3, type: 'usage' });
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1_000);
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.version).toBe(1);
  });

  it('notifies for a truncated event', () => {
    const store = new LogStore();
    const listener = vi.fn();
    store.subscribe(listener);
    store.apply(truncated(1));
    vi.advanceTimersByTime(100);
    expect(listener).toHaveBeenCalledTimes(1);
  });

  it('notifies every listener and stops notifying one that unsubscribed', () => {
    const store = new LogStore();
    const first = vi.fn();
    const second = vi.fn();
    const unsubscribeFirst = store.subscribe(first);
    store.subscribe(second);
    store.applyAll([out(1, 'stdout', 'a'), out(2, 'stdout', 'b')]);
    vi.advanceTimersByTime(100);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
    unsubscribeFirst();
    store.apply(out(3, 'stdout', 'c'));
    vi.advanceTimersByTime(100);
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(2);
  });

  it('raises the version even with no listeners', () => {
    const store = new LogStore();
    store.apply(out(1, 'stdout', 'a'));
    vi.advanceTimersByTime(100);
    expect(store.getVersion()).toBe(1);
  });

  it('waits 250 ms instead for a log of 100,000 lines or more', () => {
    const store = new LogStore();
    const listener = vi.fn();
    store.subscribe(listener);
    store.apply(out(1, 'stdout', 'x\n'.repeat(100_000)));
    expect(store.lines).toHaveLength(100_000);
    vi.advanceTimersByTime(249);
    expect(listener).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(listener).toHaveBeenCalledTimes(1);
  });

  describe('with requestAnimationFrame', () => {
    let frames: FrameRequestCallback[];

    beforeEach(() => {
      frames = [];
      vi.stubGlobal('requestAnimationFrame', (callback: FrameRequestCallback): number => {
        frames.push(callback);
        return frames.length;
      });
    });

    function runFrames(): void {
      const due = frames;
      frames = [];
      for (const callback of due) callback(performance.now());
    }

    it('notifies once on the next frame', () => {
      const store = new LogStore();
      const listener = vi.fn();
      store.subscribe(listener);
      store.apply(out(1, 'stdout', 'a'));
      store.apply(out(2, 'stderr', 'b'));
      expect(frames).toHaveLength(1);
      expect(vi.getTimerCount()).toBe(0);
      expect(listener).not.toHaveBeenCalled();
      runFrames();
      expect(listener).toHaveBeenCalledTimes(1);
      expect(store.version).toBe(1);
      store.apply(out(3, 'stdout', 'c'));
      expect(frames).toHaveLength(1);
      runFrames();
      expect(listener).toHaveBeenCalledTimes(2);
    });

    it('uses a 100 ms timer instead for a log of 5,000 lines or more', () => {
      const store = new LogStore();
      const listener = vi.fn();
      store.subscribe(listener);
      store.apply(out(1, 'stdout', 'x\n'.repeat(4_999)));
      expect(frames).toHaveLength(1);
      runFrames();
      store.apply(out(2, 'stdout', 'the 5,000th line'));
      expect(frames).toHaveLength(0);
      vi.advanceTimersByTime(99);
      expect(listener).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(1);
      expect(listener).toHaveBeenCalledTimes(2);
    });
  });
});
