import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { clampTerminalSize, ResizeDebouncer, type TerminalSize } from './terminal-size';

describe('clampTerminalSize', () => {
  it('keeps a size inside what the server takes', () => {
    expect(clampTerminalSize({ cols: 3, rows: 1 })).toEqual({ cols: 10, rows: 2 });
    expect(clampTerminalSize({ cols: 5000, rows: 40.7 })).toEqual({ cols: 1000, rows: 40 });
    expect(clampTerminalSize({ cols: Number.NaN, rows: 24 })).toEqual({ cols: 10, rows: 24 });
  });
});

describe('ResizeDebouncer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('sends the last size once they stop changing, and only a new one', () => {
    const sent: TerminalSize[] = [];
    const debouncer = new ResizeDebouncer((size) => sent.push(size), {
      delayMs: 200,
      initial: { cols: 100, rows: 30 },
    });
    debouncer.request({ cols: 90, rows: 30 });
    vi.advanceTimersByTime(100);
    debouncer.request({ cols: 80, rows: 24 });
    vi.advanceTimersByTime(199);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([{ cols: 80, rows: 24 }]);
    debouncer.request({ cols: 80, rows: 24 });
    vi.advanceTimersByTime(500);
    expect(sent).toHaveLength(1);
  });

  it('does not send the size the run already has, nor after cancel', () => {
    const sent: TerminalSize[] = [];
    const debouncer = new ResizeDebouncer((size) => sent.push(size), {
      delayMs: 200,
      initial: { cols: 100, rows: 30 },
    });
    debouncer.request({ cols: 100, rows: 30 });
    vi.advanceTimersByTime(300);
    debouncer.request({ cols: 120, rows: 30 });
    debouncer.cancel();
    vi.advanceTimersByTime(300);
    expect(sent).toEqual([]);
  });
});
