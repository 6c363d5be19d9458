/**
 * A small, safe reader of terminal output: SGR (colour and weight) sequences become styles, every
 * other escape (OSC 8 hyperlinks, OSC 52 clipboard, window titles, cursor moves, DCS, ...) and
 * every other control character is dropped. The result is plain text plus styles; the caller
 * renders it as React text nodes, never as HTML.
 */

export interface AnsiStyle {
  fg: string | null;
  bg: string | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
  strike: boolean;
}

export interface AnsiSegment {
  text: string;
  style: AnsiStyle | null;
}

export const PLAIN: AnsiStyle = Object.freeze({
  fg: null,
  bg: null,
  bold: false,
  dim: false,
  italic: false,
  underline: false,
  inverse: false,
  strike: false,
});

const BASIC = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

function isPlain(style: AnsiStyle): boolean {
  return (
    style.fg === null &&
    style.bg === null &&
    !style.bold &&
    !style.dim &&
    !style.italic &&
    !style.underline &&
    !style.inverse &&
    !style.strike
  );
}

function clampByte(value: number | undefined): number {
  if (value === undefined || !Number.isFinite(value)) return 0;
  return Math.max(0, Math.min(255, Math.trunc(value)));
}

/** A 256-colour index as a CSS colour: a variable for the 16 theme colours, rgb() for the rest. */
function color256(index: number): string {
  const n = clampByte(index);
  if (n < 8) return `var(--ansi-${BASIC[n]})`;
  if (n < 16) return `var(--ansi-bright-${BASIC[n - 8]})`;
  if (n < 232) {
    const i = n - 16;
    const level = (v: number) => (v === 0 ? 0 : 55 + v * 40);
    return `rgb(${level(Math.floor(i / 36))}, ${level(Math.floor(i / 6) % 6)}, ${level(i % 6)})`;
  }
  const grey = 8 + (n - 232) * 10;
  return `rgb(${grey}, ${grey}, ${grey})`;
}

/** Applies one SGR parameter list to a style; unknown codes are ignored. */
export function applySgr(style: AnsiStyle, params: number[]): AnsiStyle {
  const next: AnsiStyle = { ...style };
  if (params.length === 0) params = [0];
  for (let i = 0; i < params.length; i++) {
    const code = params[i] ?? 0;
    if (code === 0) Object.assign(next, PLAIN);
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 9) next.strike = true;
    else if (code === 22) next.bold = next.dim = false;
    else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code === 27) next.inverse = false;
    else if (code === 29) next.strike = false;
    else if (code >= 30 && code <= 37) next.fg = `var(--ansi-${BASIC[code - 30]})`;
    else if (code === 39) next.fg = null;
    else if (code >= 40 && code <= 47) next.bg = `var(--ansi-${BASIC[code - 40]})`;
    else if (code === 49) next.bg = null;
    else if (code >= 90 && code <= 97) next.fg = `var(--ansi-bright-${BASIC[code - 90]})`;
    else if (code >= 100 && code <= 107) next.bg = `var(--ansi-bright-${BASIC[code - 100]})`;
    else if (code === 38 || code === 48) {
      const mode = params[i + 1];
      let value: string | null = null;
      if (mode === 5) {
        value = color256(params[i + 2] ?? 0);
        i += 2;
      } else if (mode === 2) {
        value = `rgb(${clampByte(params[i + 2])}, ${clampByte(params[i + 3])}, ${clampByte(params[i + 4])})`;
        i += 4;
      } else {
        break; // malformed: ignore the rest of this sequence
      }
      if (code === 38) next.fg = value;
      else next.bg = value;
    }
  }
  return next;
}

export interface ParsedLine {
  /** The text with every escape removed: what search, copy and download use. */
  text: string;
  /** Styled pieces, or null when the whole line is plain. */
  segments: AnsiSegment[] | null;
  /** The style in force at the end of the line, carried to the next line of the same stream. */
  endStyle: AnsiStyle;
}

const ESC = 0x1b;
const BEL = 0x07;

/**
 * Splits a line into styled segments. `start` is the style carried over from the previous line.
 * Recognised: CSI ... m (SGR). Dropped whole: other CSI sequences, OSC (ESC ] or 0x9d, ended by
 * BEL or ESC \; an unterminated one swallows the rest of the line), DCS/SOS/PM/APC strings, other
 * two-byte escapes, C0 and C1 controls except tab.
 */
export function parseAnsi(input: string, start: AnsiStyle = PLAIN): ParsedLine {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (isPlain(start) && !/[\x00-\x08\x0b-\x1f\x7f-\x9f]/.test(input)) {
    return { text: input, segments: null, endStyle: PLAIN };
  }
  const segments: AnsiSegment[] = [];
  let style = start;
  let buffer = '';
  let plainText = '';
  const flush = () => {
    if (buffer) {
      segments.push({ text: buffer, style: isPlain(style) ? null : style });
      plainText += buffer;
      buffer = '';
    }
  };
  const skipString = (from: number): number => {
    // Skips to BEL or ST (ESC \ or 0x9c); returns the index after the terminator.
    for (let j = from; j < input.length; j++) {
      const c = input.charCodeAt(j);
      if (c === BEL || c === 0x9c) return j + 1;
      if (c === ESC && input.charCodeAt(j + 1) === 0x5c) return j + 2;
    }
    return input.length;
  };
  const readCsi = (from: number): number => {
    let j = from;
    while (j < input.length) {
      const c = input.charCodeAt(j);
      if (c >= 0x40 && c <= 0x7e) break;
      j++;
    }
    if (j >= input.length) return input.length;
    if (input[j] === 'm') {
      const body = input.slice(from, j);
      if (/^[0-9;:]*$/.test(body)) {
        flush();
        const params = body === '' ? [] : body.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
        style = applySgr(style, params);
      }
    }
    return j + 1;
  };
  let i = 0;
  while (i < input.length) {
    const c = input.charCodeAt(i);
    if (c === ESC) {
      const kind = input[i + 1];
      if (kind === '[') i = readCsi(i + 2);
      else if (kind === ']' || kind === 'P' || kind === 'X' || kind === '^' || kind === '_')
        i = skipString(i + 2);
      else if (kind === undefined) i += 1;
      else if (kind === '(' || kind === ')' || kind === '#' || kind === '%') i += 3;
      else i += 2;
    } else if (c === 0x9b) {
      i = readCsi(i + 1);
    } else if (c === 0x9d || c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) {
      i = skipString(i + 1);
    } else if ((c < 0x20 && c !== 0x09) || (c >= 0x7f && c <= 0x9f)) {
      i += 1; // other controls: inert
    } else {
      let j = i + 1;
      while (j < input.length) {
        const d = input.charCodeAt(j);
        if (d === ESC || (d < 0x20 && d !== 0x09) || (d >= 0x7f && d <= 0x9f)) break;
        j++;
      }
      buffer += input.slice(i, j);
      i = j;
    }
  }
  flush();
  const onlyPlain = segments.every((s) => s.style === null);
  return { text: plainText, segments: onlyPlain ? null : segments, endStyle: style };
}

/** The CSS for a style, as a React style object (values are built from numbers and names only). */
export function styleToCss(style: AnsiStyle): Record<string, string> {
  const css: Record<string, string> = {};
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) {
    [fg, bg] = [bg ?? 'var(--log-bg)', fg ?? 'var(--log-fg)'];
  }
  if (fg) css.color = fg;
  if (bg) css.backgroundColor = bg;
  if (style.bold) css.fontWeight = '700';
  if (style.dim) css.opacity = '0.7';
  if (style.italic) css.fontStyle = 'italic';
  const deco = [style.underline ? 'underline' : '', style.strike ? 'line-through' : '']
    .filter(Boolean)
    .join(' ');
  if (deco) css.textDecoration = deco;
  return css;
}
