import { describe, expect, it } from 'vitest';
import { printableName } from './printable-name.ts';

describe('printableName', () => {
  it('leaves ordinary names, spaces and non-ASCII letters alone', () => {
    expect(printableName('src/my file/café.ts')).toBe('src/my file/café.ts');
  });

  it('escapes control characters, DEL and C1 controls', () => {
    expect(printableName('a\nb\tc\rd')).toBe('a\\nb\\tc\\rd');
    expect(printableName('nul\0x')).toBe('nul\\x00x');
    expect(printableName('esc\u001b[31m')).toBe('esc\\x1b[31m');
    expect(printableName('del\u007f c1\u0085')).toBe('del\\x7f c1\\x85');
  });

  it('escapes invisible formatting and line separators (bidi overrides, zero width)', () => {
    expect(printableName('evil\u202etxt.exe')).toBe('evil\\u202etxt.exe');
    expect(printableName('a\u200bb\u2028c')).toBe('a\\u200bb\\u2028c');
    expect(printableName('tag\u{e0041}')).toBe('tag\\u{e0041}');
  });

  it('escapes backslash, double quote and lone surrogates so the result is unambiguous', () => {
    expect(printableName('C:\\x')).toBe('C:\\\\x');
    expect(printableName('say "hi"')).toBe('say \\"hi\\"');
    expect(printableName('bad\ud800')).toBe('bad\\ud800');
  });

  it('cuts long names', () => {
    const long = 'x'.repeat(1000);
    expect(printableName(long)).toBe(`${'x'.repeat(200)}…`);
    expect(printableName('abcdef', 3)).toBe('abc…');
    expect(printableName('abc', 3)).toBe('abc');
  });
});
