import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_PARTIAL_FLUSH_MS,
  LineSplitterEndedError,
  LineSplitterOptionError,
  createLineSplitter,
  type LineSplitter,
  type SplitLine,
} from './line-splitter.ts';

const bytes = (text: string): Buffer => Buffer.from(text, 'utf8');

function fakeClock(): { now: () => number; advance: (ms: number) => void } {
  let time = 1_000;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

function pushAll(splitter: LineSplitter, chunks: readonly (string | Uint8Array)[]): SplitLine[] {
  const out: SplitLine[] = [];
  for (const chunk of chunks) {
    out.push(...splitter.push(typeof chunk === 'string' ? bytes(chunk) : chunk));
  }
  return out;
}

const complete = (text: string, continuation = false): SplitLine => ({
  text,
  partial: false,
  continuation,
});
const partial = (text: string, continuation = false): SplitLine => ({
  text,
  partial: true,
  continuation,
});

describe('createLineSplitter', () => {
  it('splits complete lines and keeps empty ones', () => {
    const splitter = createLineSplitter();
    expect(pushAll(splitter, ['one\n\ntwo\n', '\n'])).toEqual([
      complete('one'),
      complete(''),
      complete('two'),
      complete(''),
    ]);
    expect(splitter.end()).toEqual([]);
  });

  it('joins a line that arrives over several chunks', () => {
    const splitter = createLineSplitter();
    expect(pushAll(splitter, ['hel', 'lo wor', 'ld\nne'])).toEqual([complete('hello world')]);
    expect(splitter.end()).toEqual([partial('ne')]);
  });

  it('treats \\r\\n as one line end, also when split across chunks', () => {
    const splitter = createLineSplitter();
    expect(pushAll(splitter, ['a\r\nb\r', '\nc\r\n'])).toEqual([
      complete('a'),
      complete('b'),
      complete('c'),
    ]);
  });

  it('keeps a lone \\r, NUL and control characters in the text', () => {
    const splitter = createLineSplitter();
    expect(pushAll(splitter, ['10%\r50%\r100%\n', 'a\u0000b\u0007c\u001b[31m\n'])).toEqual([
      complete('10%\r50%\r100%'),
      complete('a\u0000b\u0007c\u001b[31m'),
    ]);
  });

  it('decodes a multi-byte character split across chunks without U+FFFD', () => {
    const euro = bytes('€'); // e2 82 ac
    const emoji = bytes('😀'); // f0 9f 98 80
    const splitter = createLineSplitter();
    const lines = pushAll(splitter, [
      euro.subarray(0, 1),
      euro.subarray(1, 2),
      Buffer.concat([euro.subarray(2), emoji.subarray(0, 3)]),
      Buffer.concat([emoji.subarray(3), bytes('\n')]),
    ]);
    expect(lines).toEqual([complete('€😀')]);
  });

  it('replaces invalid UTF-8 with U+FFFD', () => {
    const splitter = createLineSplitter();
    const lines = splitter.push(Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x0a, 0xe2, 0x82, 0x0a]));
    expect(lines).toEqual([complete('a\uFFFDb\uFFFD'), complete('\uFFFD')]);
  });

  it('turns an unfinished character at the end of the stream into U+FFFD', () => {
    const splitter = createLineSplitter();
    expect(splitter.push(Buffer.from([0x78, 0xe2, 0x82]))).toEqual([]);
    expect(splitter.end()).toEqual([partial('x\uFFFD')]);
  });

  it('keeps a leading byte order mark as text', () => {
    const splitter = createLineSplitter();
    expect(splitter.push(bytes('\uFEFFhi\n'))).toEqual([complete('\uFEFFhi')]);
  });

  describe('maximum line length', () => {
    it('keeps a line of exactly the maximum length whole', () => {
      const splitter = createLineSplitter({ maxLineBytes: 8 });
      expect(pushAll(splitter, ['12345678\n', '1234', '5678', '\n'])).toEqual([
        complete('12345678'),
        complete('12345678'),
      ]);
    });

    it('keeps a maximum-length line whole when its \\r\\n is split across chunks', () => {
      const splitter = createLineSplitter({ maxLineBytes: 8 });
      expect(pushAll(splitter, ['12345678\r', '\nx\n'])).toEqual([
        complete('12345678'),
        complete('x'),
      ]);
    });

    it('cuts a line one byte too long, the rest as a continuation', () => {
      const splitter = createLineSplitter({ maxLineBytes: 8 });
      expect(pushAll(splitter, ['123456789\n'])).toEqual([
        partial('12345678'),
        complete('9', true),
      ]);
    });

    it('cuts a maximum-length line followed by a lone \\r and more text', () => {
      const splitter = createLineSplitter({ maxLineBytes: 8 });
      expect(pushAll(splitter, ['12345678\rab\n'])).toEqual([
        partial('12345678'),
        complete('\rab', true),
      ]);
    });

    it('cuts at a character boundary, never inside a character', () => {
      const splitter = createLineSplitter({ maxLineBytes: 8 });
      // 'abcdef' is 6 bytes, '€' 3 more: the cut falls before the euro sign.
      expect(pushAll(splitter, ['abcdef€gh\n'])).toEqual([
        partial('abcdef'),
        complete('€gh', true),
      ]);
    });

    it('bounds 100 MB without a newline to pieces of at most the maximum', () => {
      const splitter = createLineSplitter();
      const chunk = Buffer.alloc(64 * 1024, 0x78);
      const total = 100 * 1024 * 1024;
      let pieces = 0;
      let longest = 0;
      let allPartial = true;
      const take = (lines: SplitLine[]): void => {
        for (const line of lines) {
          pieces += 1;
          longest = Math.max(longest, line.text.length);
          allPartial &&= line.partial;
        }
      };
      for (let sent = 0; sent < total; sent += chunk.length) take(splitter.push(chunk));
      take(splitter.end());
      expect(longest).toBe(DEFAULT_MAX_LINE_BYTES);
      expect(pieces).toBe(total / DEFAULT_MAX_LINE_BYTES);
      expect(allPartial).toBe(true);
      expect(splitter.totals()).toEqual({ bytes: total, lines: pieces });
    });
  });

  describe('partial lines', () => {
    it('holds a partial line until its deadline, counted from the first held byte', () => {
      const clock = fakeClock();
      const splitter = createLineSplitter({ now: clock.now });
      expect(splitter.push(bytes('Downloading'))).toEqual([]);
      expect(splitter.msUntilFlush()).toBe(DEFAULT_PARTIAL_FLUSH_MS);
      clock.advance(60);
      expect(splitter.push(bytes('...'))).toEqual([]);
      expect(splitter.msUntilFlush()).toBe(40);
      expect(splitter.flushDue()).toEqual([]);
      clock.advance(40);
      expect(splitter.msUntilFlush()).toBe(0);
      expect(splitter.flushDue()).toEqual([partial('Downloading...')]);
      expect(splitter.msUntilFlush()).toBeNull();
      expect(splitter.flushDue()).toEqual([]);
    });

    it('emits the rest of a flushed line as a continuation', () => {
      const splitter = createLineSplitter();
      splitter.push(bytes('50%'));
      expect(splitter.flushPartial()).toEqual([partial('50%')]);
      expect(pushAll(splitter, [' done\nnext\n'])).toEqual([
        complete(' done', true),
        complete('next'),
      ]);
    });

    it('ends a flushed line with an empty continuation when the newline comes alone', () => {
      const splitter = createLineSplitter();
      splitter.push(bytes('prompt> '));
      expect(splitter.flushPartial()).toEqual([partial('prompt> ')]);
      expect(splitter.push(bytes('\n'))).toEqual([complete('', true)]);
    });

    it('chains several partial flushes of one line', () => {
      const splitter = createLineSplitter();
      splitter.push(bytes('a'));
      const first = splitter.flushPartial();
      splitter.push(bytes('b'));
      const second = splitter.flushPartial();
      const last = splitter.push(bytes('c\n'));
      expect([...first, ...second, ...last]).toEqual([
        partial('a'),
        partial('b', true),
        complete('c', true),
      ]);
    });

    it('holds back a trailing \\r so a split \\r\\n does not leak a \\r', () => {
      const splitter = createLineSplitter();
      splitter.push(bytes('abc\r'));
      expect(splitter.flushPartial()).toEqual([partial('abc')]);
      expect(splitter.push(bytes('\n'))).toEqual([complete('', true)]);
    });

    it('keeps a progress bar \\r at the start of the continuation', () => {
      const splitter = createLineSplitter();
      splitter.push(bytes('10%\r'));
      expect(splitter.flushPartial()).toEqual([partial('10%')]);
      splitter.push(bytes('20%\r'));
      expect(splitter.flushPartial()).toEqual([partial('\r20%', true)]);
    });

    it('holds back the first bytes of an unfinished character', () => {
      const clock = fakeClock();
      const splitter = createLineSplitter({ now: clock.now });
      const euro = bytes('€');
      splitter.push(Buffer.concat([bytes('x'), euro.subarray(0, 2)]));
      clock.advance(DEFAULT_PARTIAL_FLUSH_MS);
      expect(splitter.flushDue()).toEqual([partial('x')]);
      // Only the unfinished character is held: nothing can be flushed, so no deadline.
      expect(splitter.msUntilFlush()).toBeNull();
      expect(splitter.flushPartial()).toEqual([]);
      expect(splitter.push(Buffer.concat([euro.subarray(2), bytes('\n')]))).toEqual([
        complete('€', true),
      ]);
    });

    it('reports no deadline when nothing is held', () => {
      const splitter = createLineSplitter();
      expect(splitter.msUntilFlush()).toBeNull();
      splitter.push(bytes('line\n'));
      expect(splitter.msUntilFlush()).toBeNull();
      expect(splitter.flushPartial()).toEqual([]);
    });

    it('honours a configured deadline', () => {
      const clock = fakeClock();
      const splitter = createLineSplitter({ now: clock.now, partialFlushMs: 5 });
      splitter.push(bytes('x'));
      expect(splitter.msUntilFlush()).toBe(5);
    });
  });

  it('counts bytes in and lines out', () => {
    const splitter = createLineSplitter();
    pushAll(splitter, ['a\r\nbb\n', 'ccc']);
    splitter.flushPartial();
    splitter.push(bytes('\n'));
    expect(splitter.totals()).toEqual({ bytes: 10, lines: 4 });
  });

  it('refuses chunks after end and ends only once', () => {
    const splitter = createLineSplitter();
    splitter.push(bytes('tail'));
    expect(splitter.end()).toEqual([partial('tail')]);
    expect(splitter.end()).toEqual([]);
    expect(() => splitter.push(bytes('x'))).toThrow(LineSplitterEndedError);
  });

  it('validates its options up front', () => {
    expect(() => createLineSplitter({ maxLineBytes: 3 })).toThrow(LineSplitterOptionError);
    expect(() => createLineSplitter({ maxLineBytes: 1.5 })).toThrow(/maxLineBytes must be/);
    expect(() => createLineSplitter({ partialFlushMs: -1 })).toThrow(/partialFlushMs/);
  });
});
