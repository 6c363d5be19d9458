import { describe, expect, it } from 'vitest';
import { TerminalFeed, terminalText } from './terminal-feed';

const out = (seq: number, text: string, partial = false) => ({
  seq,
  type: 'output' as const,
  stream: 'stdout' as const,
  text,
  partial,
  continuation: false,
});

describe('terminalText', () => {
  it('ends a whole line with \\r\\n and leaves a partial piece (a prompt) open', () => {
    expect(terminalText(out(1, 'hello'))).toBe('hello\r\n');
    expect(terminalText(out(2, 'name? ', true))).toBe('name? ');
    // The empty continuation that closes a partial line is the line end alone.
    expect(terminalText(out(3, ''))).toBe('\r\n');
  });

  it('keeps escapes and a lone carriage return as the program wrote them', () => {
    expect(terminalText(out(1, '\x1b[31m 50%\r100%\x1b[0m'))).toBe('\x1b[31m 50%\r100%\x1b[0m\r\n');
  });

  it('notes a cut-off on its own line and shows nothing for other events', () => {
    const cut = { seq: 4, type: 'truncated', reason: 'lines', limit: 1000, droppedBytes: 0 };
    const text = terminalText(cut);
    expect(text).toContain('output cut off at its limit of 1,000 lines');
    expect(text?.startsWith('\x1b[0m\r\n')).toBe(true);
    expect(terminalText({ seq: 5, type: 'end' })).toBeNull();
  });
});

describe('TerminalFeed', () => {
  it('gives a terminal attached late everything so far, then each new chunk', () => {
    const feed = new TerminalFeed();
    feed.applyAll([out(1, 'one'), out(2, 'name? ', true)]);
    const written: string[] = [];
    feed.attach((data) => written.push(data));
    expect(written).toEqual(['one\r\nname? ']);
    feed.apply(out(3, 'Ada', true));
    expect(written).toEqual(['one\r\nname? ', 'Ada']);
  });

  it('drops what a resumed subscription sends again', () => {
    const feed = new TerminalFeed();
    const written: string[] = [];
    feed.attach((data) => written.push(data));
    feed.applyAll([out(1, 'a'), out(2, 'b')]);
    feed.applyAll([out(2, 'b'), out(3, 'c')]);
    expect(written.join('')).toBe('a\r\nb\r\nc\r\n');
    expect(feed.seq).toBe(3);
  });

  it('replays everything to a second terminal after the first detached (a remount)', () => {
    const feed = new TerminalFeed();
    const first: string[] = [];
    const detach = feed.attach((data) => first.push(data));
    feed.apply(out(1, 'x'));
    detach();
    feed.apply(out(2, 'y'));
    expect(first).toEqual(['x\r\n']);
    const second: string[] = [];
    feed.attach((data) => second.push(data));
    expect(second).toEqual(['x\r\ny\r\n']);
  });

  it('keeps nothing once dropped (not a tty run)', () => {
    const feed = new TerminalFeed();
    feed.apply(out(1, 'x'));
    feed.drop();
    feed.apply(out(2, 'y'));
    const written: string[] = [];
    feed.attach((data) => written.push(data));
    expect(written).toEqual([]);
  });
});
