import { describe, expect, it } from 'vitest';
import {
  CONTEXT_CHARS,
  createLineFilter,
  replaceInRange,
  type FilterSpan,
  type WindowScanner,
} from './line-filter.ts';

/** Replaces the word "secret" with "******"; holds back any end that could still become one. */
function wordScanner(seen: string[] = []): WindowScanner<FilterSpan> {
  const word = 'secret';
  return {
    maxHold: word.length,
    scan(window, _shownUpTo, lineEnds) {
      seen.push(window);
      const spans: FilterSpan[] = [];
      for (let at = window.indexOf(word); at !== -1; at = window.indexOf(word, at + word.length)) {
        spans.push({ start: at, end: at + word.length });
      }
      let openFrom = window.length;
      if (!lineEnds) {
        for (
          let start = Math.max(0, window.length - word.length + 1);
          start < window.length;
          start++
        ) {
          if (word.startsWith(window.slice(start))) {
            openFrom = start;
            break;
          }
        }
      }
      return { spans, unbreakable: spans, openFrom };
    },
    render: (window, from, to, scan) =>
      replaceInRange(window, from, to, scan.spans, () => '******'),
  };
}

describe('createLineFilter', () => {
  it('joins pieces so a split word is replaced whole, and shows the rest at once', () => {
    const filter = createLineFilter(wordScanner());
    expect(filter.write('my sec', false)).toBe('my ');
    expect(filter.held()).toBe(3);
    expect(filter.write('ret is out', false)).toBe('****** is out');
    expect(filter.write(' and secre', false)).toBe(' and ');
    expect(filter.write('', true)).toBe('secre');
  });

  it('never shows half of a surrogate pair', () => {
    const holdLastUnit: WindowScanner<FilterSpan> = {
      maxHold: 2,
      scan: (window, _shownUpTo, lineEnds) => ({
        spans: [],
        unbreakable: [],
        openFrom: lineEnds ? window.length : window.length - 1,
      }),
      render: (window, from, to) => window.slice(from, to),
    };
    const filter = createLineFilter(holdLastUnit);
    const shown = filter.write('ok 😀', false);
    expect(shown).toBe('ok ');
    expect(filter.write('', true)).toBe('😀');
  });

  it('lets the scanner see a little of what it already showed on the line, and none of the last line', () => {
    const seen: string[] = [];
    const filter = createLineFilter(wordScanner(seen));
    filter.write('x'.repeat(200), false);
    filter.write('y', false);
    expect(seen.at(-1)).toBe('x'.repeat(CONTEXT_CHARS) + 'y');
    filter.write('', true);
    filter.write('z', true);
    expect(seen.at(-1)).toBe('z');
  });
});

describe('replaceInRange', () => {
  const text = '0123456789';
  const spans = [
    { start: 1, end: 3 },
    { start: 5, end: 8 },
  ];

  it('replaces the spans inside the range', () => {
    expect(replaceInRange(text, 0, 10, spans, () => '#')).toBe('0#34#89');
  });

  it('replaces the part of a span that the range cuts', () => {
    expect(replaceInRange(text, 2, 6, spans, () => '#')).toBe('#34#');
    expect(replaceInRange(text, 3, 5, spans, () => '#')).toBe('34');
  });
});
