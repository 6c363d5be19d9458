import type { RunEvent } from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import { CappedText, OutputJoiner } from './output-text.ts';

type OutputEvent = Extract<RunEvent, { type: 'output' }>;

let seq = 0;
function piece(
  stream: 'stdout' | 'stderr',
  text: string,
  partial = false,
  continuation = false,
): OutputEvent {
  return { seq: ++seq, at: 0, type: 'output', stream, text, partial, continuation };
}

describe('CappedText', () => {
  it('keeps everything under the cap and counts bytes, not characters', () => {
    const text = new CappedText(100);
    text.append('héllo ');
    text.append('wörld');
    expect(text.result()).toEqual({ text: 'héllo wörld', bytes: 13, truncated: false });
  });

  it('cuts at a character boundary and goes on counting past the cap', () => {
    const text = new CappedText(5);
    // "ab" then "€" (3 bytes) then "€": the second euro would end at byte 8.
    text.append('ab€€');
    text.append('more');
    expect(text.result()).toEqual({ text: 'ab€', bytes: 12, truncated: true });
  });

  it('keeps nothing more once cut, even what would still fit', () => {
    const text = new CappedText(4);
    text.append('abc€');
    text.append('d');
    expect(text.result()).toEqual({ text: 'abc', bytes: 7, truncated: true });
  });

  it('a cap met exactly is not a cut', () => {
    const text = new CappedText(3);
    text.append('abc');
    expect(text.result()).toEqual({ text: 'abc', bytes: 3, truncated: false });
  });
});

describe('OutputJoiner', () => {
  it('joins the pieces of a line, per stream, and ends whole lines with a newline', () => {
    const joiner = new OutputJoiner({ maxBytes: 1_000, combined: true });
    joiner.add(piece('stdout', 'Downloading', true));
    joiner.add(piece('stderr', 'warning: slow'));
    joiner.add(piece('stdout', '... 50%', true, true));
    joiner.add(piece('stdout', '... done', false, true));
    joiner.add(piece('stdout', 'second line'));
    expect(joiner.stream('stdout').text).toBe('Downloading... 50%... done\nsecond line\n');
    expect(joiner.stream('stderr').text).toBe('warning: slow\n');
    expect(joiner.combined()?.text).toBe(
      'Downloadingwarning: slow\n... 50%... done\nsecond line\n',
    );
  });

  it('keeps a line without its newline at the end as it was printed', () => {
    const joiner = new OutputJoiner({ maxBytes: 1_000 });
    joiner.add(piece('stdout', 'prompt> ', true));
    joiner.add(piece('stdout', '', false, true));
    joiner.add(piece('stdout', 'no newline', true));
    expect(joiner.stream('stdout').text).toBe('prompt> \nno newline');
    expect(joiner.combined()).toBeNull();
  });

  it('caps each stream on its own', () => {
    const joiner = new OutputJoiner({ maxBytes: 4 });
    joiner.add(piece('stdout', 'abcdef'));
    joiner.add(piece('stderr', 'xy'));
    expect(joiner.stream('stdout')).toEqual({ text: 'abcd', bytes: 7, truncated: true });
    expect(joiner.stream('stderr')).toEqual({ text: 'xy\n', bytes: 3, truncated: false });
  });
});
