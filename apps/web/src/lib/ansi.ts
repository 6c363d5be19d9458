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

/** One SGR code without sub-parameters, applied in place. */
function applyCode(next: AnsiStyle, code: number): void {
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
}

function rgb(r: number | undefined, g: number | undefined, b: number | undefined): string {
  return `rgb(${clampByte(r)}, ${clampByte(g)}, ${clampByte(b)})`;
}

/**
 * The colour of 38/48 in the colon form (ITU T.416): `5:n`, `2:r:g:b`, or `2:<space>:r:g:b` with
 * a colour-space id (usually left empty) before the components. Null for anything else.
 */
function colonColor(sub: readonly number[]): string | null {
  if (sub[0] === 5) return color256(sub[1] ?? 0);
  if (sub[0] === 2)
    return sub.length >= 5 ? rgb(sub[2], sub[3], sub[4]) : rgb(sub[1], sub[2], sub[3]);
  return null;
}

/**
 * Applies one SGR sequence to a style. Each group is a `;`-separated parameter with its
 * `:`-separated sub-parameters. Extended colours come in both forms: `38;5;n` and `38;2;r;g;b`
 * (spread over groups) and `38:5:n`, `38:2::r:g:b` (within one). Unknown codes are ignored.
 */
export function applySgrGroups(
  style: AnsiStyle,
  groups: readonly (readonly number[])[],
): AnsiStyle {
  const next: AnsiStyle = { ...style };
  if (groups.length === 0) groups = [[0]];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] ?? [0];
    const code = group[0] ?? 0;
    if (group.length > 1) {
      if (code === 38 || code === 48) {
        const value = colonColor(group.slice(1));
        if (value !== null && code === 38) next.fg = value;
        if (value !== null && code === 48) next.bg = value;
      } else if (code === 4) {
        next.underline = group[1] !== 0; // 4:0 is "no underline", 4:1..5 are kinds of underline
      } else {
        applyCode(next, code);
      }
    } else if (code === 38 || code === 48) {
      const mode = groups[i + 1]?.[0];
      let value: string;
      if (mode === 5) {
        value = color256(groups[i + 2]?.[0] ?? 0);
        i += 2;
      } else if (mode === 2) {
        value = rgb(groups[i + 2]?.[0], groups[i + 3]?.[0], groups[i + 4]?.[0]);
        i += 4;
      } else {
        break; // malformed: ignore the rest of this sequence
      }
      if (code === 38) next.fg = value;
      else next.bg = value;
    } else {
      applyCode(next, code);
    }
  }
  return next;
}

/** Applies one SGR parameter list (the `;` form) to a style; unknown codes are ignored. */
export function applySgr(style: AnsiStyle, params: readonly number[]): AnsiStyle {
  return applySgrGroups(
    style,
    params.map((param) => [param]),
  );
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
const CR = 0x0d;
const CAN = 0x18;
const SUB = 0x1a;
const ST = 0x9c;

function isControl(c: number): boolean {
  return (c < 0x20 && c !== 0x09) || (c >= 0x7f && c <= 0x9f);
}

/**
 * A line as a terminal would leave it: text goes in at a cursor, a carriage return moves the
 * cursor back to the start and what follows overwrites (a progress bar redrawn in place shows its
 * last frame). Cells are made only once a carriage return comes; before that pieces are appended.
 */
class StyledLine {
  private pieces: AnsiSegment[] = [];
  private cells: { text: string; style: AnsiStyle | null }[] | null = null;
  private cursor = 0;

  write(text: string, style: AnsiStyle): void {
    const cellStyle = isPlain(style) ? null : style;
    if (this.cells === null) {
      const last = this.pieces.at(-1);
      if (last && last.style === cellStyle) last.text += text;
      else this.pieces.push({ text, style: cellStyle });
      return;
    }
    for (const char of text) {
      if (this.cursor < this.cells.length)
        this.cells[this.cursor] = { text: char, style: cellStyle };
      else this.cells.push({ text: char, style: cellStyle });
      this.cursor++;
    }
  }

  carriageReturn(): void {
    if (this.cells === null) {
      this.cells = this.pieces.flatMap((piece) =>
        Array.from(piece.text, (char) => ({ text: char, style: piece.style })),
      );
      this.pieces = [];
    }
    this.cursor = 0;
  }

  segments(): AnsiSegment[] {
    if (this.cells === null) return this.pieces;
    const out: AnsiSegment[] = [];
    for (const cell of this.cells) {
      const last = out.at(-1);
      if (last && last.style === cell.style) last.text += cell.text;
      else out.push({ text: cell.text, style: cell.style });
    }
    return out;
  }
}

/**
 * Splits a line into styled segments. `start` is the style carried over from the previous line.
 * Recognised: CSI ... m (SGR), and carriage returns (what follows one overwrites the line from
 * its start). Dropped whole: other CSI sequences (one broken off by ESC or a control character
 * ends there), OSC (ESC ] or 0x9d, ended by BEL or ST), DCS/SOS/PM/APC strings (ended by ST
 * only), other escapes with their intermediate and final bytes; an unterminated sequence
 * swallows the rest of the line. C0 and C1 controls other than tab are dropped, newlines too.
 */
export function parseAnsi(input: string, start: AnsiStyle = PLAIN): ParsedLine {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  if (isPlain(start) && !/[\x00-\x08\x0a-\x1f\x7f-\x9f]/.test(input)) {
    return { text: input, segments: null, endStyle: PLAIN };
  }
  const line = new StyledLine();
  let style = start;
  const end = input.length;
  const code = (at: number): number => (at < end ? input.charCodeAt(at) : -1);

  /** A string (OSC, DCS, SOS, PM, APC) from `from` to its terminator; the index after it. */
  const skipString = (from: number, belEnds: boolean): number => {
    for (let j = from; j < end; j++) {
      const c = input.charCodeAt(j);
      if ((belEnds && c === BEL) || c === ST || c === CAN || c === SUB) return j + 1;
      if (c === ESC && code(j + 1) === 0x5c) return j + 2;
    }
    return end;
  };
  /** A control sequence's parameters and final byte; broken off at anything else. */
  const readCsi = (from: number): number => {
    let j = from;
    for (;;) {
      const c = code(j);
      if (c === -1) return end;
      if (c >= 0x20 && c <= 0x3f) {
        j++;
        continue;
      }
      if (c < 0x40 || c > 0x7e) return j; // ESC, a control or a non-ASCII character: abandoned
      const body = input.slice(from, j);
      if (c === 0x6d && /^[0-9;:]*$/.test(body)) {
        const groups =
          body === ''
            ? []
            : body
                .split(';')
                .map((group) => group.split(':').map((p) => (p === '' ? 0 : Number(p))));
        style = applySgrGroups(style, groups);
      }
      return j + 1;
    }
  };
  /** An escape sequence starting at ESC; the index after what it covers. */
  const readEscape = (at: number): number => {
    const c = code(at + 1);
    if (c === 0x5b) return readCsi(at + 2); // [
    if (c === 0x5d) return skipString(at + 2, true); // ]
    if (c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) return skipString(at + 2, false);
    if (c >= 0x20 && c <= 0x2f) {
      // Intermediate bytes, then a final byte (e.g. ESC ( B, ESC SP F, ESC $ ( C).
      let j = at + 1;
      while (code(j) >= 0x20 && code(j) <= 0x2f) j++;
      const final = code(j);
      return final >= 0x30 && final <= 0x7e ? j + 1 : j;
    }
    if (c >= 0x30 && c <= 0x7e) return at + 2;
    // The end, another ESC, a control or a non-ASCII character: the ESC alone is dropped.
    return at + 1;
  };

  let i = 0;
  while (i < end) {
    const c = input.charCodeAt(i);
    if (c === ESC) i = readEscape(i);
    else if (c === 0x9b) i = readCsi(i + 1);
    else if (c === 0x9d) i = skipString(i + 1, true);
    else if (c === 0x90 || c === 0x98 || c === 0x9e || c === 0x9f) i = skipString(i + 1, false);
    else if (c === CR) {
      line.carriageReturn();
      i += 1;
    } else if (isControl(c)) i += 1;
    else {
      let j = i + 1;
      while (j < end && !isControl(input.charCodeAt(j))) j++;
      line.write(input.slice(i, j), style);
      i = j;
    }
  }
  const segments = line.segments().filter((segment) => segment.text !== '');
  const text = segments.map((segment) => segment.text).join('');
  const onlyPlain = segments.every((segment) => segment.style === null);
  return { text, segments: onlyPlain ? null : segments, endStyle: style };
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
