/**
 * How far a secret pattern reaches, for output that arrives in pieces: the longest text one match
 * can span, and where the unfinished end of a text could still grow into a match once more text
 * comes. The output filters show a line that is still being printed only up to that point, so a
 * secret printed in two writes is never shown half.
 *
 * The pattern is read into a small syntax tree and turned into its "prefix pattern": a regular
 * expression that matches exactly the texts that are the beginning of some match, when anchored
 * at the end of the text. Each single-character step may instead stop at the end of the text, and
 * every later step then accepts the empty end too; a lookahead that reads past the end counts as
 * open. What the parser does not understand (backreferences, the `v` flag, inline modifiers) falls
 * back to the bound alone: the last `maxLength` characters are held.
 */

/** A pattern with an unbounded quantifier (`+`, `*`, `{n,}`), or one that can match more than
 * this, is taken to reach this many UTF-16 code units: a longer match printed across flushes may
 * show its tail. Every built-in pattern reaches less (the longest, an `Authorization: Bearer`
 * header, about 4,150). */
export const PATTERN_REACH_CAP = 8192;

/** A prefix pattern longer than this (nested lookaheads copy their body) is not compiled. */
const MAX_PREFIX_SOURCE = 200_000;

export interface PatternReach {
  /** The longest text a match can read from its start, lookaheads included, in UTF-16 code units;
   * `PATTERN_REACH_CAP` when unbounded or unknown. */
  readonly maxLength: number;
  /** True when a match can be longer than `maxLength`. */
  readonly capped: boolean;
  /** True when the prefix pattern was built; false when only the bound is used. */
  readonly exact: boolean;
  /**
   * The earliest index of `text` from which the rest of `text` could still begin a match (or a
   * match whose end depends on what comes next); `text.length` when there is none. Text before it
   * matches (or not) the same way whatever follows. Only the last `maxLength` characters are
   * searched.
   */
  openStart(text: string): number;
}

type Node =
  | { type: 'char'; source: string; width: number }
  | { type: 'seq'; items: Node[] }
  | { type: 'alt'; options: Node[] }
  | { type: 'repeat'; body: Node; min: number; max: number }
  | { type: 'assert'; source: string }
  | { type: 'look'; behind: boolean; negative: boolean; body: Node };

/** Syntax this module does not model; the pattern falls back to its bound. */
class UnsupportedSyntax extends Error {
  readonly code = 'UNSUPPORTED_PATTERN_SYNTAX';
}

const SYNTAX_CHARACTERS = new Set('^$\\.*+?()[]{}|/');
// Matches only at the end of the text, whatever the flags (`$` also matches before \r with `m`).
const AT_END = '(?![\\s\\S])';
const QUANTIFIER = /\{(\d+)(?:(,)(\d*))?\}/y;
const HEX2 = /[0-9A-Fa-f]{2}/y;
const HEX4 = /[0-9A-Fa-f]{4}/y;
const LOOKAROUNDS: readonly [string, { behind: boolean; negative: boolean }][] = [
  ['?=', { behind: false, negative: false }],
  ['?!', { behind: false, negative: true }],
  ['?<=', { behind: true, negative: false }],
  ['?<!', { behind: true, negative: true }],
];

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function parse(source: string, unicode: boolean): Node {
  // With `u`, one step can match an astral character: two code units.
  const width = unicode ? 2 : 1;
  let index = 0;

  function sticky(pattern: RegExp): RegExpExecArray | null {
    pattern.lastIndex = index;
    return pattern.exec(source);
  }

  function readTo(close: string): string {
    const end = source.indexOf(close, index);
    if (end === -1) throw new UnsupportedSyntax(`no ${close}`);
    const text = source.slice(index, end + 1);
    index = end + 1;
    return text;
  }

  function parseAlternation(): Node {
    const options = [parseSequence()];
    while (source[index] === '|') {
      index += 1;
      options.push(parseSequence());
    }
    return options.length === 1 && options[0] ? options[0] : { type: 'alt', options };
  }

  function parseSequence(): Node {
    const items: Node[] = [];
    while (index < source.length && source[index] !== '|' && source[index] !== ')') {
      items.push(parseQuantifier(parseAtom()));
    }
    return { type: 'seq', items };
  }

  function parseQuantifier(atom: Node): Node {
    let min: number;
    let max: number;
    const char = source[index];
    if (char === '*' || char === '+' || char === '?') {
      min = char === '+' ? 1 : 0;
      max = char === '?' ? 1 : Infinity;
      index += 1;
    } else if (char === '{') {
      const match = sticky(QUANTIFIER);
      if (!match) return atom; // a literal brace (Annex B); parsed as the next atom
      min = Number(match[1]);
      max = match[2] === undefined ? min : match[3] ? Number(match[3]) : Infinity;
      index += match[0].length;
    } else {
      return atom;
    }
    if (source[index] === '?') index += 1; // lazy or greedy: the same set of matches
    return { type: 'repeat', body: atom, min, max };
  }

  function parseAtom(): Node {
    const char = source[index] ?? '';
    if (char === '(') return parseGroup();
    if (char === '[') return parseClass();
    if (char === '\\') return parseEscape();
    if (char === '^' || char === '$') {
      index += 1;
      return { type: 'assert', source: char };
    }
    if (char === '.') {
      index += 1;
      return { type: 'char', source: '.', width };
    }
    const code = source.charCodeAt(index);
    if (unicode && isHighSurrogate(code) && isLowSurrogate(source.charCodeAt(index + 1))) {
      index += 2;
      return { type: 'char', source: source.slice(index - 2, index), width: 2 };
    }
    index += 1;
    return { type: 'char', source: SYNTAX_CHARACTERS.has(char) ? `\\${char}` : char, width: 1 };
  }

  function parseGroup(): Node {
    index += 1;
    const lookaround = LOOKAROUNDS.find(([opening]) => source.startsWith(opening, index));
    if (lookaround) index += lookaround[0].length;
    else if (source.startsWith('?:', index)) index += 2;
    else if (source.startsWith('?<', index))
      readTo('>'); // a named group
    else if (source[index] === '?') throw new UnsupportedSyntax('inline modifiers');
    const body = parseAlternation();
    if (source[index] !== ')') throw new UnsupportedSyntax('unclosed group');
    index += 1;
    return lookaround ? { type: 'look', ...lookaround[1], body } : body;
  }

  function parseClass(): Node {
    const start = index;
    index += 1;
    if (source[index] === '^') index += 1;
    // Outside `v` mode a class ends at its first unescaped `]`, even right after `[` (`[]` is empty).
    while (index < source.length && source[index] !== ']') index += source[index] === '\\' ? 2 : 1;
    if (index >= source.length) throw new UnsupportedSyntax('unclosed class');
    index += 1;
    return { type: 'char', source: source.slice(start, index), width };
  }

  function parseEscape(): Node {
    const start = index;
    const next = source[index + 1];
    if (next === undefined) throw new UnsupportedSyntax('trailing backslash');
    index += 2;
    if (next === 'b' || next === 'B') return { type: 'assert', source: `\\${next}` };
    if (next >= '1' && next <= '9') throw new UnsupportedSyntax('backreference or octal escape');
    if (next === '0' && /[0-9]/.test(source[index] ?? '')) throw new UnsupportedSyntax('octal');
    if (next === 'k' && source[index] === '<') throw new UnsupportedSyntax('named backreference');
    if (next === 'c' && /[A-Za-z]/.test(source[index] ?? '')) index += 1;
    else if (next === 'x' && sticky(HEX2)) index += 2;
    else if (next === 'u' && unicode && source[index] === '{') readTo('}');
    else if (next === 'u' && sticky(HEX4)) {
      index += 4;
      // With `u`, an escaped surrogate pair is one character.
      const high = Number.parseInt(source.slice(index - 4, index), 16);
      if (unicode && isHighSurrogate(high) && source.startsWith('\\u', index)) {
        const low = Number.parseInt(source.slice(index + 2, index + 6), 16);
        if (isLowSurrogate(low)) index += 6;
      }
    } else if ((next === 'p' || next === 'P') && unicode) readTo('}');
    const escape = source.slice(start, index);
    return { type: 'char', source: escape, width: /^\\[dwstnrvf0]$/.test(escape) ? 1 : width };
  }

  const tree = parseAlternation();
  if (index !== source.length) throw new UnsupportedSyntax('unbalanced parenthesis');
  return tree;
}

function maxLength(node: Node): number {
  switch (node.type) {
    case 'char':
      return node.width;
    case 'seq':
      return node.items.reduce((sum, item) => sum + maxLength(item), 0);
    case 'alt':
      return Math.max(...node.options.map(maxLength));
    case 'repeat': {
      const body = maxLength(node.body);
      return body === 0 || node.max === 0 ? 0 : body * node.max;
    }
    case 'assert':
      return 0;
    case 'look':
      // A lookahead reads text after its position; counted as if consumed, which can only overshoot.
      return node.behind ? 0 : maxLength(node.body);
  }
}

function quantifier(min: number, max: number): string {
  return max === Infinity ? `{${min},}` : `{${min},${max}}`;
}

/** The node as a pattern again, every group non-capturing (so copies never clash by name). */
function emit(node: Node): string {
  switch (node.type) {
    case 'char':
    case 'assert':
      return node.source;
    case 'seq':
      return node.items.map(emit).join('');
    case 'alt':
      return `(?:${node.options.map(emit).join('|')})`;
    case 'repeat':
      return `(?:${emit(node.body)})${quantifier(node.min, node.max)}`;
    case 'look':
      return `(?${node.behind ? '<' : ''}${node.negative ? '!' : '='}${emit(node.body)})`;
  }
}

/**
 * Matches where `node` matches in the text as it is and would whatever came next: no step of the
 * match looks at the end of the text (`$`, `\b` there, a lookahead that could still change).
 */
function decided(node: Node): string {
  switch (node.type) {
    case 'char':
      return node.source;
    case 'assert':
      return node.source === '^' ? '^' : `(?:${node.source})(?=[\\s\\S])`;
    case 'seq':
      return node.items.map(decided).join('');
    case 'alt':
      return `(?:${node.options.map(decided).join('|')})`;
    case 'repeat':
      return `(?:${decided(node.body)})${quantifier(node.min, node.max)}`;
    case 'look':
      if (node.behind) return emit(node);
      return node.negative
        ? `(?!${emit(node.body)})(?!${prefix(node.body)}${AT_END})`
        : `(?=${decided(node.body)})`;
  }
}

/**
 * Matches, ending at the end of the text, every beginning of a match of `node`, and every match
 * whose outcome still depends on what comes next. Each part also matches the empty string at the
 * end of the text, so once one step stops there the rest follows.
 */
function prefix(node: Node): string {
  switch (node.type) {
    case 'char':
    case 'assert':
      return `(?:${node.source}|${AT_END})`;
    case 'seq':
      return node.items.map(prefix).join('');
    case 'alt':
      return `(?:${node.options.map(prefix).join('|')})`;
    case 'repeat':
      // Iterations that match empty at the end count towards the minimum, as the spec allows.
      return `(?:${prefix(node.body)})${quantifier(node.min, node.max)}`;
    case 'look': {
      if (node.behind) return `(?:${emit(node)}|${AT_END})`;
      // Decided by the text that is there, or open: its body could still match once more text comes,
      // and then the whole rest is open.
      const settled = decided(node.body);
      const open = `(?=${prefix(node.body)}${AT_END})[\\s\\S]*`;
      return node.negative
        ? `(?!${settled})(?:${open}|)`
        : `(?:(?=${settled})|(?!${settled})${open})`;
    }
  }
}

function hasUnboundedRepeat(node: Node): boolean {
  switch (node.type) {
    case 'char':
    case 'assert':
      return false;
    case 'seq':
      return node.items.some(hasUnboundedRepeat);
    case 'alt':
      return node.options.some(hasUnboundedRepeat);
    case 'repeat':
      return (node.max === Infinity && maxLength(node.body) > 0) || hasUnboundedRepeat(node.body);
    case 'look':
      return !node.behind && hasUnboundedRepeat(node.body);
  }
}

function boundOnly(): PatternReach {
  return {
    maxLength: PATTERN_REACH_CAP,
    capped: true,
    exact: false,
    openStart: (text) => Math.max(0, text.length - PATTERN_REACH_CAP),
  };
}

/** Reads `pattern` once; the result answers `openStart` for any number of texts. */
export function analyzePattern(pattern: RegExp): PatternReach {
  const flags = pattern.flags.replace(/[dgy]/g, '');
  if (flags.includes('v')) return boundOnly();
  let tree: Node;
  try {
    tree = parse(pattern.source, flags.includes('u'));
  } catch (error) {
    if (error instanceof UnsupportedSyntax) return boundOnly();
    throw error;
  }
  const length = maxLength(tree);
  const capped = hasUnboundedRepeat(tree) || length > PATTERN_REACH_CAP;
  const bound = Math.min(length, PATTERN_REACH_CAP);
  const source = `(?:${prefix(tree)})${AT_END}`;
  if (source.length > MAX_PREFIX_SOURCE) return boundOnly();
  let open: RegExp;
  try {
    open = new RegExp(source, `${flags}g`);
  } catch {
    return boundOnly();
  }
  return {
    maxLength: bound,
    capped,
    exact: true,
    openStart(text) {
      open.lastIndex = Math.max(0, text.length - bound);
      const match = open.exec(text);
      return match ? match.index : text.length;
    },
  };
}
