import { describe, expect, it } from 'vitest';
import { applySgr, parseAnsi, PLAIN, styleToCss, type AnsiStyle, type ParsedLine } from './ansi';

const ESC = '\x1b';
const BEL = '\x07';
/** String terminator, 7-bit form (ESC \). */
const ST = `${ESC}\\`;
const CSI = `${ESC}[`;
const OSC = `${ESC}]`;

const BASIC = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'] as const;

function sgr(...params: (number | string)[]): string {
  return `${CSI}${params.join(';')}m`;
}

function style(overrides: Partial<AnsiStyle>): AnsiStyle {
  return { ...PLAIN, ...overrides };
}

/** Code points of C0/C1 controls (and DEL) in a string, tab excepted. */
function controlCodes(text: string): number[] {
  const codes: number[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if ((c < 0x20 && c !== 0x09) || (c >= 0x7f && c <= 0x9f)) codes.push(c);
  }
  return codes;
}

function joined(result: ParsedLine): string {
  return result.segments ? result.segments.map((s) => s.text).join('') : result.text;
}

/** True when `sub` can be read out of `full` by dropping characters (order kept). */
function isSubsequence(sub: string, full: string): boolean {
  let j = 0;
  for (let i = 0; i < full.length && j < sub.length; i++) if (full[i] === sub[j]) j++;
  return j === sub.length;
}

/** The invariants every parse must keep, whatever the input. */
function expectSound(input: string, result: ParsedLine): void {
  expect(joined(result)).toBe(result.text);
  expect(result.text.includes(ESC)).toBe(false);
  // Text is taken from the input in order, except that a carriage return lets later text
  // overwrite the start of the line: then each character still comes from the input.
  if (input.includes('\r')) {
    for (const char of result.text) expect(input.includes(char)).toBe(true);
  } else {
    expect(isSubsequence(result.text, input)).toBe(true);
  }
  if (result.segments) {
    expect(result.segments.length).toBeGreaterThan(0);
    for (const segment of result.segments) expect(segment.text).not.toBe('');
    expect(result.segments.some((s) => s.style !== null)).toBe(true);
  }
}

const CSS_COLOR =
  /^(var\(--ansi-(bright-)?(black|red|green|yellow|blue|magenta|cyan|white)\)|rgb\((\d{1,3}), (\d{1,3}), (\d{1,3})\))$/;

function expectSafeColor(value: string | null): void {
  if (value === null) return;
  const match = CSS_COLOR.exec(value);
  expect(match, `unexpected colour ${value}`).not.toBeNull();
  if (match?.[4] !== undefined) {
    for (const part of [match[4], match[5], match[6]]) {
      expect(Number(part)).toBeGreaterThanOrEqual(0);
      expect(Number(part)).toBeLessThanOrEqual(255);
    }
  }
}

describe('parseAnsi: plain text', () => {
  it('returns text without escapes unchanged, with no segments and the plain end style', () => {
    const result = parseAnsi('hello, world');
    expect(result).toEqual({ text: 'hello, world', segments: null, endStyle: PLAIN });
  });

  it('handles the empty string', () => {
    expect(parseAnsi('')).toEqual({ text: '', segments: null, endStyle: PLAIN });
    expect(parseAnsi('', style({ bold: true }))).toEqual({
      text: '',
      segments: null,
      endStyle: style({ bold: true }),
    });
  });

  it('keeps tabs', () => {
    expect(parseAnsi('a\tb').text).toBe('a\tb');
    expect(parseAnsi(`${sgr(1)}a\tb`).text).toBe('a\tb');
  });

  it('keeps non-ASCII text whole', () => {
    const text = 'naïve café — 日本語 😀 e\u0301';
    expect(parseAnsi(text).text).toBe(text);
    const styled = parseAnsi(`${sgr(31)}${text}${sgr(0)}`);
    expect(styled.text).toBe(text);
    expect(styled.segments).toEqual([{ text, style: style({ fg: 'var(--ansi-red)' }) }]);
  });

  it.each([
    '<img src=x onerror=alert(1)>',
    '<script>alert(document.cookie)</script>',
    '&lt;b&gt; &amp; &#x3c; "quoted" \'single\'',
    '<a href="javascript:alert(1)">x</a>',
  ])('returns markup-like text %j as the same literal text', (markup) => {
    expect(parseAnsi(markup).text).toBe(markup);
    const styled = parseAnsi(`${sgr(1, 31)}${markup}${sgr(0)}`);
    expect(styled.text).toBe(markup);
    expect(styled.segments?.map((s) => s.text)).toEqual([markup]);
  });
});

describe('parseAnsi: colours', () => {
  it.each(BASIC.map((name, i) => [name, i] as const))(
    'reads basic colour %s as foreground and background',
    (name, i) => {
      expect(parseAnsi(`${sgr(30 + i)}x`).endStyle.fg).toBe(`var(--ansi-${name})`);
      expect(parseAnsi(`${sgr(40 + i)}x`).endStyle.bg).toBe(`var(--ansi-${name})`);
    },
  );

  it.each(BASIC.map((name, i) => [name, i] as const))(
    'reads bright colour %s as foreground and background',
    (name, i) => {
      expect(parseAnsi(`${sgr(90 + i)}x`).endStyle.fg).toBe(`var(--ansi-bright-${name})`);
      expect(parseAnsi(`${sgr(100 + i)}x`).endStyle.bg).toBe(`var(--ansi-bright-${name})`);
    },
  );

  it('resets only the foreground with 39 and only the background with 49', () => {
    const both = parseAnsi(`${sgr(1, 31, 44)}x`).endStyle;
    expect(parseAnsi(`${sgr(39)}x`, both).endStyle).toEqual(
      style({ bold: true, bg: 'var(--ansi-blue)' }),
    );
    expect(parseAnsi(`${sgr(49)}x`, both).endStyle).toEqual(
      style({ bold: true, fg: 'var(--ansi-red)' }),
    );
  });

  it.each([
    [0, 'var(--ansi-black)'],
    [1, 'var(--ansi-red)'],
    [7, 'var(--ansi-white)'],
    [8, 'var(--ansi-bright-black)'],
    [9, 'var(--ansi-bright-red)'],
    [15, 'var(--ansi-bright-white)'],
    [16, 'rgb(0, 0, 0)'],
    [17, 'rgb(0, 0, 95)'],
    [21, 'rgb(0, 0, 255)'],
    [46, 'rgb(0, 255, 0)'],
    [59, 'rgb(95, 95, 95)'],
    [196, 'rgb(255, 0, 0)'],
    [208, 'rgb(255, 135, 0)'],
    [231, 'rgb(255, 255, 255)'],
    [232, 'rgb(8, 8, 8)'],
    [244, 'rgb(128, 128, 128)'],
    [255, 'rgb(238, 238, 238)'],
  ])('reads 256-colour index %i as %s', (index, css) => {
    expect(parseAnsi(`${sgr(38, 5, index)}x`).endStyle.fg).toBe(css);
    expect(parseAnsi(`${sgr(48, 5, index)}x`).endStyle.bg).toBe(css);
    // The colon form of the same sequence.
    expect(parseAnsi(`${CSI}38:5:${index}mx`).endStyle.fg).toBe(css);
  });

  it('gives every 256-colour index a safe CSS colour', () => {
    for (let index = 0; index < 256; index++) {
      const result = parseAnsi(`${sgr(38, 5, index, 48, 5, 255 - index)}x`);
      expectSafeColor(result.endStyle.fg);
      expectSafeColor(result.endStyle.bg);
      expect(result.endStyle.fg).not.toBeNull();
      expect(result.endStyle.bg).not.toBeNull();
    }
  });

  it('reads truecolour foreground and background', () => {
    expect(parseAnsi(`${sgr(38, 2, 12, 34, 56)}x`).endStyle.fg).toBe('rgb(12, 34, 56)');
    expect(parseAnsi(`${sgr(48, 2, 255, 128, 0)}x`).endStyle.bg).toBe('rgb(255, 128, 0)');
    expect(parseAnsi(`${CSI}38:2:1:2:3mx`).endStyle.fg).toBe('rgb(1, 2, 3)');
  });

  it('clamps out-of-range truecolour and 256-colour values into 0..255', () => {
    expect(parseAnsi(`${sgr(38, 2, 300, 999, 1000)}x`).endStyle.fg).toBe('rgb(255, 255, 255)');
    expect(parseAnsi(`${sgr(38, 5, 256)}x`).endStyle.fg).toBe('rgb(238, 238, 238)');
    expect(parseAnsi(`${sgr(48, 5, 99999999999999)}x`).endStyle.bg).toBe('rgb(238, 238, 238)');
  });

  it('keeps reading parameters after an extended colour', () => {
    expect(parseAnsi(`${sgr(38, 5, 196, 1)}x`).endStyle).toEqual(
      style({ fg: 'rgb(255, 0, 0)', bold: true }),
    );
    expect(parseAnsi(`${sgr(38, 2, 1, 2, 3, 4, 48, 5, 21)}x`).endStyle).toEqual(
      style({ fg: 'rgb(1, 2, 3)', underline: true, bg: 'rgb(0, 0, 255)' }),
    );
  });

  it('applies several codes of one sequence in order', () => {
    expect(parseAnsi(`${sgr(1, 31, 42)}x`).endStyle).toEqual(
      style({ bold: true, fg: 'var(--ansi-red)', bg: 'var(--ansi-green)' }),
    );
    // A later colour replaces an earlier one.
    expect(parseAnsi(`${sgr(31, 32)}x`).endStyle.fg).toBe('var(--ansi-green)');
  });

  it('ignores the rest of a sequence after 38/48 with a missing or unknown mode', () => {
    expect(parseAnsi(`${sgr(1, 38)}x`).endStyle).toEqual(style({ bold: true }));
    expect(parseAnsi(`${sgr(48)}x`).endStyle).toEqual(PLAIN);
    expect(parseAnsi(`${sgr(38, 7, 1)}x`).endStyle).toEqual(PLAIN);
    expect(parseAnsi(`${sgr(4, 48, 9, 31)}x`).endStyle).toEqual(style({ underline: true }));
  });
});

describe('parseAnsi: attributes and resets', () => {
  const attributes: [keyof AnsiStyle, number, number][] = [
    ['bold', 1, 22],
    ['dim', 2, 22],
    ['italic', 3, 23],
    ['underline', 4, 24],
    ['inverse', 7, 27],
    ['strike', 9, 29],
  ];

  it.each(attributes)('sets %s with %i and clears it with %i', (key, on, off) => {
    const set = parseAnsi(`${sgr(on)}x`);
    expect(set.endStyle).toEqual(style({ [key]: true }));
    expect(set.segments).toEqual([{ text: 'x', style: style({ [key]: true }) }]);
    const cleared = parseAnsi(`${sgr(off)}y`, set.endStyle);
    expect(cleared.endStyle).toEqual(PLAIN);
    expect(cleared.segments).toBeNull();
  });

  it('clears only its own attribute, leaving the others', () => {
    const all = parseAnsi(`${sgr(1, 3, 4, 7, 9, 31, 44)}x`).endStyle;
    expect(parseAnsi(`${sgr(23)}x`, all).endStyle).toEqual({ ...all, italic: false });
    expect(parseAnsi(`${sgr(24)}x`, all).endStyle).toEqual({ ...all, underline: false });
    expect(parseAnsi(`${sgr(27)}x`, all).endStyle).toEqual({ ...all, inverse: false });
    expect(parseAnsi(`${sgr(29)}x`, all).endStyle).toEqual({ ...all, strike: false });
  });

  it('clears both bold and dim with 22', () => {
    const start = style({ bold: true, dim: true, italic: true });
    expect(parseAnsi(`${sgr(22)}x`, start).endStyle).toEqual(style({ italic: true }));
  });

  it.each([
    ['ESC[m', `${CSI}m`],
    ['ESC[0m', `${CSI}0m`],
    ['ESC[00m', `${CSI}00m`],
    ['ESC[;m', `${CSI};m`],
  ])('resets everything with %s', (_name, reset) => {
    const start = style({
      fg: 'var(--ansi-red)',
      bg: 'rgb(1, 2, 3)',
      bold: true,
      dim: true,
      italic: true,
      underline: true,
      inverse: true,
      strike: true,
    });
    const result = parseAnsi(`a${reset}b`, start);
    expect(result.endStyle).toEqual(PLAIN);
    expect(result.segments).toEqual([
      { text: 'a', style: start },
      { text: 'b', style: null },
    ]);
    expect(result.text).toBe('ab');
  });

  it('treats an empty parameter as 0', () => {
    expect(parseAnsi(`${CSI};1mx`).endStyle).toEqual(style({ bold: true }));
    // 1, then empty (= 0, a reset), then 3.
    expect(parseAnsi(`${CSI}1;;3mx`).endStyle).toEqual(style({ italic: true }));
  });

  it('resets in the middle of a sequence and applies what follows', () => {
    expect(parseAnsi(`${sgr(1, 31, 0, 3)}x`).endStyle).toEqual(style({ italic: true }));
  });

  it('ignores codes it does not know (blink, conceal, overline, fonts)', () => {
    for (const code of [5, 6, 8, 10, 11, 20, 21, 26, 50, 53, 58, 73, 108, 200]) {
      const result = parseAnsi(`${sgr(code)}visible`);
      expect(result.text, `code ${code}`).toBe('visible');
      expect(result.endStyle, `code ${code}`).toEqual(PLAIN);
    }
  });
});

describe('parseAnsi: segments and carried styles', () => {
  it('splits text at style changes', () => {
    const result = parseAnsi(`a${sgr(31)}b${sgr(1)}c${sgr(0)}d`);
    expect(result.text).toBe('abcd');
    expect(result.segments).toEqual([
      { text: 'a', style: null },
      { text: 'b', style: style({ fg: 'var(--ansi-red)' }) },
      { text: 'c', style: style({ fg: 'var(--ansi-red)', bold: true }) },
      { text: 'd', style: null },
    ]);
    expect(result.endStyle).toEqual(PLAIN);
  });

  it('returns no segments when escapes never leave the plain style', () => {
    const result = parseAnsi(`a${sgr(0)}b${CSI}2Kc${sgr(31)}${sgr(39)}d`);
    expect(result.text).toBe('abcd');
    expect(result.segments).toBeNull();
  });

  it('styles the whole line with the start style carried from the previous line', () => {
    const red = style({ fg: 'var(--ansi-red)' });
    const result = parseAnsi('still red', red);
    expect(result.segments).toEqual([{ text: 'still red', style: red }]);
    expect(result.endStyle).toEqual(red);
  });

  it('carries the end style of one call into the next', () => {
    const first = parseAnsi(`${sgr(1, 32)}green`);
    const second = parseAnsi('more', first.endStyle);
    const third = parseAnsi(`x${sgr(22)}y`, second.endStyle);
    const fourth = parseAnsi(`${sgr(0)}plain`, third.endStyle);
    const boldGreen = style({ bold: true, fg: 'var(--ansi-green)' });
    expect(second.segments).toEqual([{ text: 'more', style: boldGreen }]);
    expect(third.segments).toEqual([
      { text: 'x', style: boldGreen },
      { text: 'y', style: style({ fg: 'var(--ansi-green)' }) },
    ]);
    expect(fourth).toEqual({ text: 'plain', segments: null, endStyle: PLAIN });
  });

  it('keeps a style set at the end of a line (with no text after it) for the next line', () => {
    const result = parseAnsi(`plain${sgr(4)}`);
    expect(result.segments).toBeNull();
    expect(result.endStyle).toEqual(style({ underline: true }));
    expect(parseAnsi('next', result.endStyle).segments).toEqual([
      { text: 'next', style: style({ underline: true }) },
    ]);
  });

  it('does not change the start style or PLAIN', () => {
    const start = style({ italic: true });
    const copy = { ...start };
    parseAnsi(`${sgr(0, 1, 31)}x`, start);
    expect(start).toEqual(copy);
    expect(Object.isFrozen(PLAIN)).toBe(true);
    expect(Object.values(PLAIN).every((value) => value === null || value === false)).toBe(true);
  });

  it('keeps text separated only by dropped escapes in one segment', () => {
    const result = parseAnsi(`${sgr(31)}a${CSI}2Jb${OSC}0;t${BEL}c\x00d`);
    expect(result.text).toBe('abcd');
    expect(result.segments).toEqual([{ text: 'abcd', style: style({ fg: 'var(--ansi-red)' }) }]);
  });
});

describe('parseAnsi: escapes other than SGR are dropped', () => {
  it.each([
    ['OSC 8 hyperlink ended by BEL', `${OSC}8;;https://evil.example/${BEL}click${OSC}8;;${BEL}`],
    ['OSC 8 hyperlink ended by ST', `${OSC}8;id=1;https://evil.example/${ST}click${OSC}8;;${ST}`],
    ['OSC 8 hyperlink, 8-bit', `\x9d8;;https://evil.example/\x9cclick\x9d8;;\x9c`],
  ])('drops an %s and keeps its visible text', (_name, input) => {
    const result = parseAnsi(input);
    expect(result.text).toBe('click');
    expect(result.segments).toBeNull();
  });

  it.each([
    ['OSC 52 clipboard write (BEL)', `${OSC}52;c;ZWNobyBwd25lZAo=${BEL}`],
    ['OSC 52 clipboard write (ST)', `${OSC}52;c;ZWNobyBwd25lZAo=${ST}`],
    ['OSC 52 clipboard query', `${OSC}52;c;?${BEL}`],
    ['OSC 0 window title', `${OSC}0;pwned${BEL}`],
    ['OSC 2 window title', `${OSC}2;pwned${ST}`],
    ['OSC 4 palette change', `${OSC}4;1;rgb:ff/00/00${BEL}`],
    ['OSC 7 working directory', `${OSC}7;file://host/etc${ST}`],
    ['OSC 1337 iTerm2 file', `${OSC}1337;File=inline=1:AAAA${BEL}`],
    ['8-bit OSC ended by 8-bit ST', `\x9d0;pwned\x9c`],
    ['8-bit OSC ended by BEL', `\x9d0;pwned${BEL}`],
    ['DCS (sixel)', `${ESC}Pq#0;2;0;0;0#0~~@@vv${ST}`],
    ['DCS (DECRQSS)', `${ESC}P$qm${ST}`],
    ['8-bit DCS', `\x90q#0~~\x9c`],
    ['SOS', `${ESC}Xstart of string${ST}`],
    ['8-bit SOS', `\x98start of string\x9c`],
    ['PM', `${ESC}^privacy message${ST}`],
    ['8-bit PM', `\x9eprivacy message\x9c`],
    ['APC', `${ESC}_Gf=100;AAAA${ST}`],
    ['8-bit APC', `\x9fGf=100;AAAA\x9c`],
    ['tmux passthrough around OSC 52', `${ESC}Ptmux;${ESC}${OSC}52;c;SGk=${BEL}${ST}`],
  ])('drops %s whole', (_name, sequence) => {
    const input = `before ${sequence}after`;
    const result = parseAnsi(input);
    expect(result.text).toBe('before after');
    expect(result.segments).toBeNull();
    expectSound(input, result);
  });

  it.each([
    ['cursor position', `${CSI}10;20H`],
    ['cursor home', `${CSI}H`],
    ['cursor up', `${CSI}3A`],
    ['cursor forward', `${CSI}999C`],
    ['erase display', `${CSI}2J`],
    ['erase line', `${CSI}K`],
    ['scroll region', `${CSI}1;24r`],
    ['hide cursor', `${CSI}?25l`],
    ['alternate screen', `${CSI}?1049h`],
    ['bracketed paste', `${CSI}?2004h`],
    ['device status report', `${CSI}6n`],
    ['window manipulation', `${CSI}8;100;100t`],
    ['modifyOtherKeys (private m)', `${CSI}>4;2m`],
    ['private SGR-like', `${CSI}?1m`],
    ['SGR with intermediate byte', `${CSI}1 m`],
    ['8-bit CSI cursor move', `\x9b10;20H`],
  ])('drops a CSI %s without changing the style', (_name, sequence) => {
    const input = `a${sequence}b`;
    const result = parseAnsi(input);
    expect(result).toEqual({ text: 'ab', segments: null, endStyle: PLAIN });
    const carried = parseAnsi(input, style({ bold: true }));
    expect(carried.endStyle).toEqual(style({ bold: true }));
    expect(carried.text).toBe('ab');
  });

  it('reads an 8-bit CSI ... m as SGR', () => {
    const result = parseAnsi('\x9b31mred\x9b0m');
    expect(result.text).toBe('red');
    expect(result.segments).toEqual([{ text: 'red', style: style({ fg: 'var(--ansi-red)' }) }]);
  });

  it.each([
    ['save cursor', `${ESC}7`],
    ['restore cursor', `${ESC}8`],
    ['full reset', `${ESC}c`],
    ['reverse index', `${ESC}M`],
    ['keypad application mode', `${ESC}=`],
    ['keypad numeric mode', `${ESC}>`],
    ['index', `${ESC}D`],
    ['next line', `${ESC}E`],
    ['string terminator on its own', ST],
    ['designate G0 ASCII', `${ESC}(B`],
    ['designate G1 line drawing', `${ESC})0`],
    ['DEC alignment test', `${ESC}#8`],
    ['select UTF-8', `${ESC}%G`],
  ])('drops the escape %s', (_name, sequence) => {
    expect(parseAnsi(`x${sequence}y`).text).toBe('xy');
  });

  it('drops every C0 control except tab (and ESC, which starts an escape)', () => {
    for (let code = 0; code < 0x20; code++) {
      // Tab is text, ESC starts an escape, a carriage return moves back (tested below).
      if (code === 0x09 || code === 0x1b || code === 0x0d) continue;
      const input = `a${String.fromCharCode(code)}b`;
      const result = parseAnsi(input);
      expect(result.text, `control 0x${code.toString(16)}`).toBe('ab');
      expect(parseAnsi(input, style({ bold: true })).text).toBe('ab');
    }
  });

  it('drops a newline when the line has other escapes', () => {
    expect(parseAnsi(`${sgr(1)}a\nb`).text).toBe('ab');
  });

  it('drops DEL and every C1 control that does not start a sequence', () => {
    const introducers = [0x90, 0x98, 0x9b, 0x9d, 0x9e, 0x9f];
    for (let code = 0x7f; code <= 0x9f; code++) {
      if (introducers.includes(code)) continue;
      const input = `a${String.fromCharCode(code)}b`;
      expect(parseAnsi(input).text, `control 0x${code.toString(16)}`).toBe('ab');
    }
  });

  it('treats a C1 string introducer as the start of a string that hides what follows', () => {
    for (const code of [0x90, 0x98, 0x9d, 0x9e, 0x9f]) {
      const input = `a${String.fromCharCode(code)}hidden\x9cb`;
      expect(parseAnsi(input).text, `introducer 0x${code.toString(16)}`).toBe('ab');
    }
  });

  it('keeps backspaces out of the text', () => {
    expect(parseAnsi('abc\b\bX').text).toBe('abcX');
  });

  it('lets text after a carriage return overwrite the line from its start, as a terminal does', () => {
    // A progress bar redrawn in place shows its last frame.
    expect(parseAnsi('10%\r20%\r30%').text).toBe('30%');
    expect(parseAnsi('[#   ] 25%\r[##  ] 50%\r[####] done').text).toBe('[####] done');
    // A shorter redraw leaves the end of the longer text, and a trailing return changes nothing.
    expect(parseAnsi('abcdef\rXY').text).toBe('XYcdef');
    expect(parseAnsi('line\r').text).toBe('line');
    expect(parseAnsi('\r\rabc').text).toBe('abc');
    // Characters, not UTF-16 units: an emoji is overwritten whole.
    expect(parseAnsi('😀b\rX').text).toBe('Xb');
  });

  it('keeps the style of each character through a carriage return', () => {
    const result = parseAnsi(`${sgr(31)}red${sgr(0)} plain\r${sgr(32)}GR`);
    expect(result.text).toBe('GRd plain');
    expect(result.segments).toEqual([
      { text: 'GR', style: style({ fg: 'var(--ansi-green)' }) },
      { text: 'd', style: style({ fg: 'var(--ansi-red)' }) },
      { text: ' plain', style: null },
    ]);
  });
});

describe('parseAnsi: malformed and truncated input', () => {
  it('drops a lone ESC at the end of the input', () => {
    expect(parseAnsi(ESC)).toEqual({ text: '', segments: null, endStyle: PLAIN });
    expect(parseAnsi(`abc${ESC}`).text).toBe('abc');
    const styled = parseAnsi(`${sgr(31)}abc${ESC}`);
    expect(styled.text).toBe('abc');
    expect(styled.endStyle).toEqual(style({ fg: 'var(--ansi-red)' }));
  });

  it('drops escapes cut off at the end of the input', () => {
    for (const cut of [CSI, `${CSI}3`, `${CSI}31`, `${CSI}31;`, `${CSI}38;5;`, `${ESC}(`, OSC]) {
      const result = parseAnsi(`x${cut}`);
      expect(result.text, JSON.stringify(cut)).toBe('x');
      // A truncated SGR is not applied.
      expect(result.endStyle, JSON.stringify(cut)).toEqual(PLAIN);
    }
  });

  it('swallows the rest of the line after an unterminated OSC or string', () => {
    expect(parseAnsi(`before${OSC}0;title and more text`).text).toBe('before');
    expect(parseAnsi(`before${OSC}8;;https://evil.example/ click here`).text).toBe('before');
    expect(parseAnsi(`before${ESC}Pq#0;2;0;0;0`).text).toBe('before');
    expect(parseAnsi(`before${ESC}_APC payload`).text).toBe('before');
    expect(parseAnsi('before\x9d0;title').text).toBe('before');
  });

  it('ends an OSC at BEL or ST, whichever comes first', () => {
    expect(parseAnsi(`${OSC}0;a${BEL}b${ST}c`).text).toBe('bc');
    expect(parseAnsi(`${OSC}0;a${ST}b${BEL}c`).text).toBe('bc');
    expect(parseAnsi(`${OSC}0;a\x9cb${BEL}c`).text).toBe('bc');
  });

  it('does not end an OSC at an ESC that is not followed by a backslash', () => {
    // Unterminated: the OSC runs to the end of the line, hiding the rest.
    const result = parseAnsi(`a${OSC}0;title${ESC}[31mred`);
    expect(result.text).toBe('a');
    expect(result.endStyle).toEqual(PLAIN);
  });

  it('does not let the parameters of an unfinished CSI into the text', () => {
    const result = parseAnsi(`${CSI}12;34 world`);
    expect(result.text).not.toContain('12;34');
    expect(result.text).not.toContain('[');
    expectSound(`${CSI}12;34 world`, result);
  });

  it('ignores huge numeric parameters', () => {
    const huge = '9'.repeat(30);
    expect(parseAnsi(`${CSI}${huge}mx`)).toEqual({ text: 'x', segments: null, endStyle: PLAIN });
    expect(parseAnsi(`${sgr(1, huge, 4)}x`).endStyle).toEqual(
      style({ bold: true, underline: true }),
    );
    expect(parseAnsi(`${sgr(38, 2, huge, 0, 0)}x`).endStyle.fg).toBe('rgb(255, 0, 0)');
  });

  it('keeps colours in range for parameters too long to be finite numbers', () => {
    const infinite = '9'.repeat(400); // Number() of this is Infinity
    for (const input of [
      `${sgr(38, 5, infinite)}x`,
      `${sgr(48, 5, infinite)}x`,
      `${sgr(38, 2, infinite, infinite, infinite)}x`,
      `${sgr(48, 2, 1, infinite, 3)}x`,
    ]) {
      const result = parseAnsi(input);
      expect(result.text).toBe('x');
      expectSafeColor(result.endStyle.fg);
      expectSafeColor(result.endStyle.bg);
    }
  });

  it('copes with very many parameters', () => {
    const params = `${'4;'.repeat(100_000)}31`;
    const result = parseAnsi(`${CSI}${params}mx`);
    expect(result.text).toBe('x');
    expect(result.endStyle).toEqual(style({ underline: true, fg: 'var(--ansi-red)' }));
  });

  it('copes with truecolour sequences missing their components', () => {
    for (const input of [`${sgr(38, 2)}x`, `${sgr(38, 2, 1)}x`, `${sgr(48, 5)}x`]) {
      const result = parseAnsi(input);
      expect(result.text).toBe('x');
      expectSafeColor(result.endStyle.fg);
      expectSafeColor(result.endStyle.bg);
    }
    expect(parseAnsi(`${sgr(38, 2, 7)}x`).endStyle.fg).toBe('rgb(7, 0, 0)');
  });

  it('copes with a very long line of escapes quickly', () => {
    const input = `${sgr(31)}a${CSI}2J${OSC}0;t${BEL}`.repeat(20_000);
    const started = performance.now();
    const result = parseAnsi(input);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(result.text).toBe('a'.repeat(20_000));
    expectSound(input, result);
  });
});

describe('parseAnsi: invariants over generated input', () => {
  // A small deterministic generator (mulberry32) so failures can be replayed.
  function random(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const PIECES = [
    ESC,
    CSI,
    OSC,
    ST,
    BEL,
    `${ESC}P`,
    `${ESC}_`,
    `${ESC}(`,
    '[',
    ']',
    '\\',
    ';',
    ':',
    'm',
    'H',
    '0',
    '1',
    '3',
    '8',
    '38;5;',
    '38;2;',
    '48;2;',
    '255',
    '999999999999',
    'hello',
    ' ',
    '\t',
    '\r',
    '\x00',
    '\x7f',
    '\x85',
    '\x9b',
    '\x9c',
    '\x9d',
    '\x90',
    '<img src=x onerror=alert(1)>',
    'é',
    '日本',
  ];

  it('keeps segment text equal to the plain text and never leaks a control character', () => {
    const next = random(0x5eed);
    for (let round = 0; round < 3_000; round++) {
      let input = '';
      const length = Math.floor(next() * 30);
      for (let k = 0; k < length; k++) input += PIECES[Math.floor(next() * PIECES.length)] ?? '';
      const start = next() < 0.3 ? style({ bold: true, fg: 'var(--ansi-red)' }) : PLAIN;
      const result = parseAnsi(input, start);
      expectSound(input, result);
      expect(controlCodes(result.text), JSON.stringify(input)).toEqual([]);
      expectSafeColor(result.endStyle.fg);
      expectSafeColor(result.endStyle.bg);
      for (const segment of result.segments ?? []) {
        expectSafeColor(segment.style?.fg ?? null);
        expectSafeColor(segment.style?.bg ?? null);
      }
      // The same input parses the same way.
      expect(parseAnsi(input, start)).toEqual(result);
    }
  });
});

describe('parseAnsi: sequences read as a terminal reads them', () => {
  // Each of these once leaked part of a sequence into the text or lost a style (found by these
  // tests): a terminal abandons an escape at the next ESC or control, ends DCS/SOS/PM/APC at ST
  // only, reads intermediate bytes up to the final byte, and takes 38:2::r:g:b as truecolour.
  it('drops ESC ESC [31m and applies the SGR', () => {
    const result = parseAnsi(`${ESC}${CSI}31mred`);
    expect(result.text).toBe('red');
    expect(result.endStyle.fg).toBe('var(--ansi-red)');
  });

  it('drops ESC followed by an 8-bit CSI sequence', () => {
    expect(parseAnsi(`${ESC}\x9b31mX`).text).toBe('X');
  });

  it('cancels an unfinished CSI at the next ESC so the following OSC is still dropped', () => {
    expect(parseAnsi(`${CSI}${OSC}8;;https://evil.example/${BEL}click${OSC}8;;${BEL}`).text).toBe(
      'click',
    );
    expect(parseAnsi(`${CSI}1;${OSC}0;title${BEL}x`).text).toBe('x');
  });

  it('drops escapes with other intermediate bytes whole', () => {
    expect(parseAnsi(`${ESC}*0ok`).text).toBe('ok');
    expect(parseAnsi(`${ESC} F ok`).text).toBe(' ok');
    expect(parseAnsi(`${ESC}$(Cok`).text).toBe('ok');
  });

  it('does not end a DCS/SOS/PM/APC string at BEL', () => {
    expect(parseAnsi(`${ESC}Pq${BEL}leaked${ST}ok`).text).toBe('ok');
    expect(parseAnsi(`${ESC}_a${BEL}leaked${ST}ok`).text).toBe('ok');
  });

  it('never leaves half a surrogate pair in the text', () => {
    const text = parseAnsi(`${ESC}😀 ok`).text;
    expect(text.isWellFormed()).toBe(true);
  });

  it('reads 38:2::r:g:b (colour space id left empty) as a truecolour', () => {
    const result = parseAnsi(`${sgr(1)}${CSI}38:2::255:0:0mX`);
    expect(result.endStyle).toEqual(style({ bold: true, fg: 'rgb(255, 0, 0)' }));
  });

  it('treats a newline the same whatever the start style', () => {
    expect(parseAnsi('a\nb').text).toBe(parseAnsi('a\nb', style({ bold: true })).text);
  });
});

describe('applySgr', () => {
  it('treats an empty parameter list as a reset', () => {
    expect(applySgr(style({ bold: true, fg: 'x' }), [])).toEqual(PLAIN);
  });

  it('returns a new style and leaves the given one alone', () => {
    const start = style({ italic: true });
    const next = applySgr(start, [1]);
    expect(next).not.toBe(start);
    expect(start).toEqual(style({ italic: true }));
    expect(next).toEqual(style({ italic: true, bold: true }));
    expect(applySgr(PLAIN, [0])).not.toBe(PLAIN);
  });

  it('reads extended colours from a parameter list', () => {
    expect(applySgr(PLAIN, [38, 5, 196, 48, 2, 1, 2, 3])).toEqual(
      style({ fg: 'rgb(255, 0, 0)', bg: 'rgb(1, 2, 3)' }),
    );
  });

  it('clamps negative and fractional colour components', () => {
    expect(applySgr(PLAIN, [38, 2, -5, 1.9, 300]).fg).toBe('rgb(0, 1, 255)');
    expect(applySgr(PLAIN, [38, 5, -3]).fg).toBe('var(--ansi-black)');
    expect(applySgr(PLAIN, [48, 2, Number.NaN, Infinity, 7]).bg).toBe('rgb(0, 0, 7)');
  });
});

describe('styleToCss', () => {
  it('gives no CSS for the plain style', () => {
    expect(styleToCss(PLAIN)).toEqual({});
  });

  it('maps colours and attributes to CSS properties', () => {
    expect(styleToCss(style({ fg: 'var(--ansi-red)', bg: 'rgb(1, 2, 3)' }))).toEqual({
      color: 'var(--ansi-red)',
      backgroundColor: 'rgb(1, 2, 3)',
    });
    expect(styleToCss(style({ bold: true }))).toEqual({ fontWeight: '700' });
    expect(styleToCss(style({ dim: true }))).toEqual({ opacity: '0.7' });
    expect(styleToCss(style({ italic: true }))).toEqual({ fontStyle: 'italic' });
    expect(styleToCss(style({ underline: true }))).toEqual({ textDecoration: 'underline' });
    expect(styleToCss(style({ strike: true }))).toEqual({ textDecoration: 'line-through' });
    expect(styleToCss(style({ underline: true, strike: true }))).toEqual({
      textDecoration: 'underline line-through',
    });
  });

  it('swaps foreground and background for inverse, with the log colours as defaults', () => {
    expect(styleToCss(style({ inverse: true }))).toEqual({
      color: 'var(--log-bg)',
      backgroundColor: 'var(--log-fg)',
    });
    expect(styleToCss(style({ inverse: true, fg: 'var(--ansi-red)' }))).toEqual({
      color: 'var(--log-bg)',
      backgroundColor: 'var(--ansi-red)',
    });
    expect(styleToCss(style({ inverse: true, bg: 'var(--ansi-blue)' }))).toEqual({
      color: 'var(--ansi-blue)',
      backgroundColor: 'var(--log-fg)',
    });
    expect(
      styleToCss(style({ inverse: true, fg: 'var(--ansi-red)', bg: 'var(--ansi-blue)' })),
    ).toEqual({ color: 'var(--ansi-blue)', backgroundColor: 'var(--ansi-red)' });
  });

  it('builds every property of a fully styled parsed line from safe values', () => {
    const result = parseAnsi(`${sgr(1, 2, 3, 4, 7, 9, 38, 2, 10, 20, 30, 48, 5, 200)}x`);
    const css = styleToCss(result.endStyle);
    expect(css).toEqual({
      color: 'rgb(255, 0, 215)',
      backgroundColor: 'rgb(10, 20, 30)',
      fontWeight: '700',
      opacity: '0.7',
      fontStyle: 'italic',
      textDecoration: 'underline line-through',
    });
  });
});
