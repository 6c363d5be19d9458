import { describe, expect, it } from 'vitest';
import { analyzePattern, PATTERN_REACH_CAP } from './pattern-reach.ts';

/** Every string over `alphabet` up to `length` characters long, the empty one included. */
function allStrings(alphabet: string, length: number): string[] {
  let level = [''];
  const all = [''];
  for (let size = 1; size <= length; size++) {
    level = level.flatMap((prefix) => [...alphabet].map((char) => prefix + char));
    all.push(...level);
  }
  return all;
}

/** The end of the match of `pattern` starting exactly at `position`, or -1. */
function matchEndAt(pattern: RegExp, text: string, position: number): number {
  const sticky = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '') + 'y');
  sticky.lastIndex = position;
  const match = sticky.exec(text);
  return match ? position + match[0].length : -1;
}

describe('analyzePattern: bounds', () => {
  it('measures bounded patterns, lookaheads included', () => {
    expect(analyzePattern(/AKIA[A-Z0-9]{16}/).maxLength).toBe(20);
    expect(analyzePattern(/ab|cdef/).maxLength).toBe(4);
    expect(analyzePattern(/a(?=bcd)/).maxLength).toBe(4);
    expect(analyzePattern(/(?<=xyz)a/).maxLength).toBe(1);
    expect(analyzePattern(/\bword\b/).capped).toBe(false);
  });

  it('caps unbounded patterns and says so', () => {
    const reach = analyzePattern(/internal-[0-9]+/);
    expect(reach).toMatchObject({ maxLength: PATTERN_REACH_CAP, capped: true, exact: true });
    expect(analyzePattern(/x{2,}/).capped).toBe(true);
    expect(analyzePattern(/[a-z]{1,100000}/)).toMatchObject({
      maxLength: PATTERN_REACH_CAP,
      capped: true,
    });
  });

  it('falls back to the bound alone for syntax it does not model', () => {
    for (const pattern of [/(a)\1/, /(?<n>a)\k<n>/, /[a&&b]/v]) {
      const reach = analyzePattern(pattern);
      expect(reach.exact).toBe(false);
      expect(reach.openStart('x'.repeat(10_000))).toBe(10_000 - PATTERN_REACH_CAP);
    }
  });

  it('reads classes, escapes and flags the way RegExp does', () => {
    const reach = analyzePattern(/[\]a-c]\x41\u0042\{\d{2}/i);
    expect(reach.exact).toBe(true);
    expect(reach.maxLength).toBe(6);
    expect(reach.openStart('zz ]ab{1')).toBe(3);
    expect(reach.openStart('zz ]AB{12')).toBe(3); // complete at the very end: could be followed…
    expect(reach.openStart('zz bab')).toBe(3); // \x41 is "A", and the i flag lets "a" match it
    expect(reach.openStart('zz bcx')).toBe(6);
  });
});

describe('analyzePattern: where an unfinished end begins', () => {
  const github =
    /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})/g;

  it('finds the start of a token that is still being printed', () => {
    const reach = analyzePattern(github);
    expect(reach.openStart('token: g')).toBe(7);
    expect(reach.openStart('token: ghp_abc')).toBe(7);
    expect(reach.openStart('token: github_p')).toBe(7);
  });

  it('leaves text alone that cannot begin a token', () => {
    const reach = analyzePattern(github);
    expect(reach.openStart('progress 10%')).toBe(12);
    expect(reach.openStart('xghp_abc')).toBe(8); // the lookbehind already rules it out
    expect(reach.openStart('ghx')).toBe(3);
  });

  it('keeps a complete token open while it could still grow, and closes it once it cannot', () => {
    const reach = analyzePattern(github);
    const token = 'ghp_' + 'a'.repeat(36);
    expect(reach.openStart(token)).toBe(0);
    expect(reach.openStart(`${token} `)).toBe(token.length + 1);
  });

  it('decides a lookahead from text that is there, keeps it open when the text is not', () => {
    const aws = analyzePattern(/(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g);
    const key = 'AKIA' + 'B'.repeat(16);
    expect(aws.openStart(key)).toBe(0); // the next character decides
    expect(aws.openStart(`${key}B`)).toBe(21); // already too long: never a key
    expect(aws.openStart(`${key}-`)).toBe(21); // a key, complete and final
  });

  // Soundness, by brute force: from any position before openStart, the pattern matches (or not)
  // exactly the same way whatever text follows. Checked over every text and continuation up to a
  // few characters of a small alphabet.
  it.each([
    [/ab{2,3}c/],
    [/(?<![a-z])ab+/],
    [/a(?=bc)/],
    [/a(?!b)c?/],
    [/\bab\b/],
    [/a|abc/],
    [/ba$/],
    [/^ab/],
    [/AB/i],
    [/(?:ab|b)*c/],
    [/a(?=b|c$)b?/],
    [/a(?!b$)/],
    [/a(?=b(?!c))/],
    [/a(?!b(?=c))c?/],
    [/a\B/],
    [/a{2}(?=b{2})/],
  ])('never calls text before it decided when it is not: %s', (pattern) => {
    const reach = analyzePattern(pattern);
    expect(reach.exact).toBe(true);
    const continuations = allStrings('abc ', 3);
    for (const text of allStrings('abc ', 5)) {
      const open = reach.openStart(text);
      for (let position = 0; position < open; position++) {
        const ends = new Set(
          continuations.map((more) => matchEndAt(pattern, text + more, position)),
        );
        if (ends.size !== 1) {
          throw new Error(`${pattern} at ${position} of ${JSON.stringify(text)} is not decided`);
        }
      }
    }
  });

  it('holds back no more than needed for simple patterns', () => {
    const reach = analyzePattern(/abc/);
    expect(reach.openStart('xxab')).toBe(2);
    expect(reach.openStart('xxac')).toBe(4);
    expect(reach.openStart('xxabc')).toBe(2);
  });
});
