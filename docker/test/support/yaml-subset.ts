/**
 * A small, strict reader for the part of YAML that docker/compose.yaml uses: block mappings and
 * sequences by indentation, flow sequences of scalars, plain, single- and double-quoted scalars,
 * comments. Anything else (anchors, aliases, tags, block scalars, flow mappings, several
 * documents, tabs) is refused with its line number, so that a test never reads a file other than
 * the way Docker Compose does.
 */

export type YamlValue = string | number | boolean | null | YamlValue[] | YamlMap;
export interface YamlMap {
  [key: string]: YamlValue;
}

export class YamlSubsetError extends Error {
  constructor(line: number, problem: string) {
    super(`line ${line}: ${problem}`);
    this.name = 'YamlSubsetError';
  }
}

interface Line {
  number: number;
  indent: number;
  text: string;
}

/** Index of a comment's `#` (at the start, or after whitespace, outside quotes), or -1. */
function commentStart(text: string): number {
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (quote === "'" && ch === "'" && text[i + 1] === "'") i++;
      else if (quote === '"' && ch === '\\') i++;
      else if (ch === quote) quote = null;
    } else if (ch === "'" || ch === '"') {
      if (i === 0 || /[\s[,:-]/.test(text[i - 1] ?? '')) quote = ch;
    } else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1] ?? ''))) {
      return i;
    }
  }
  return -1;
}

function toLines(source: string): Line[] {
  const lines: Line[] = [];
  source.split(/\r?\n/).forEach((raw, index) => {
    const number = index + 1;
    const indentText = /^[ \t]*/.exec(raw)?.[0] ?? '';
    if (indentText.includes('\t')) throw new YamlSubsetError(number, 'tab in indentation');
    const hash = commentStart(raw);
    const text = (hash >= 0 ? raw.slice(0, hash) : raw).trimEnd();
    if (text.trim() === '') return;
    if (/^(---|\.\.\.)(\s|$)/.test(text)) {
      throw new YamlSubsetError(number, 'document markers are not supported');
    }
    lines.push({ number, indent: indentText.length, text: text.slice(indentText.length) });
  });
  return lines;
}

function parseDoubleQuoted(body: string, line: number): string {
  try {
    return JSON.parse(`"${body.replace(/\\x([0-9a-fA-F]{2})/g, '\\u00$1')}"`) as string;
  } catch {
    throw new YamlSubsetError(line, `bad double-quoted string "${body}"`);
  }
}

/** The end index (exclusive) of a quoted scalar that starts at `start`. */
function quotedEnd(text: string, start: number, line: number): number {
  const quote = text[start];
  for (let i = start + 1; i < text.length; i++) {
    if (quote === "'" && text[i] === "'") {
      if (text[i + 1] === "'") i++;
      else return i + 1;
    } else if (quote === '"' && text[i] === '\\') {
      i++;
    } else if (quote === '"' && text[i] === '"') {
      return i + 1;
    }
  }
  throw new YamlSubsetError(line, 'unterminated quoted string');
}

function parseScalar(raw: string, line: number): YamlValue {
  const text = raw.trim();
  if (text === '') return null;
  const first = text[0] ?? '';
  if (first === "'" || first === '"') {
    const end = quotedEnd(text, 0, line);
    if (end !== text.length) throw new YamlSubsetError(line, `text after a quoted string: ${text}`);
    const body = text.slice(1, -1);
    return first === "'" ? body.replace(/''/g, "'") : parseDoubleQuoted(body, line);
  }
  if (first === '[') return parseFlowSequence(text, line);
  if ('{&*!|>%@`'.includes(first)) {
    throw new YamlSubsetError(line, `unsupported YAML (${first}...): ${text}`);
  }
  if (first === '?' && (text.length === 1 || text[1] === ' ')) {
    throw new YamlSubsetError(line, 'complex keys are not supported');
  }
  if (/^(null|Null|NULL|~)$/.test(text)) return null;
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  if (/^[-+]?(0|[1-9][0-9]*)$/.test(text)) return Number(text);
  if (/^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) return Number(text);
  if (text.includes(': ') || text.endsWith(':')) {
    throw new YamlSubsetError(line, `ambiguous plain scalar (quote it): ${text}`);
  }
  return text;
}

function parseFlowSequence(text: string, line: number): YamlValue[] {
  if (!text.endsWith(']')) throw new YamlSubsetError(line, `unterminated flow sequence: ${text}`);
  const inner = text.slice(1, -1).trim();
  if (inner === '') return [];
  const items: YamlValue[] = [];
  let i = 0;
  while (i < inner.length) {
    while (inner[i] === ' ') i++;
    let end: number;
    if (inner[i] === "'" || inner[i] === '"') {
      end = quotedEnd(inner, i, line);
    } else {
      end = inner.indexOf(',', i);
      if (end < 0) end = inner.length;
    }
    const item = inner.slice(i, end).trim();
    if (item.startsWith('[') || item.startsWith('{')) {
      throw new YamlSubsetError(line, 'nested flow collections are not supported');
    }
    items.push(parseScalar(item, line));
    i = end;
    while (inner[i] === ' ') i++;
    if (i < inner.length) {
      if (inner[i] !== ',') throw new YamlSubsetError(line, `expected "," in ${text}`);
      i++;
    }
  }
  return items;
}

/** Splits `key: value` (or `key:`) at the first mapping colon outside quotes, or returns null. */
function splitKey(text: string, line: number): { key: string; rest: string } | null {
  let keyEnd: number;
  let colon: number;
  if (text[0] === "'" || text[0] === '"') {
    keyEnd = quotedEnd(text, 0, line);
    colon = keyEnd;
    while (text[colon] === ' ') colon++;
    if (text[colon] !== ':') return null;
  } else {
    const match = /:( |$)/.exec(text);
    if (!match) return null;
    colon = match.index;
    keyEnd = colon;
  }
  if (colon + 1 < text.length && text[colon + 1] !== ' ') return null;
  const keyText = text.slice(0, keyEnd).trim();
  const key = parseScalar(keyText, line);
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw new YamlSubsetError(line, `unsupported key: ${keyText}`);
  }
  return { key: String(key), rest: text.slice(colon + 1).trim() };
}

const isSequenceItem = (text: string): boolean => text === '-' || text.startsWith('- ');

class Reader {
  private index = 0;
  private readonly lines: Line[];
  constructor(lines: Line[]) {
    this.lines = lines;
  }

  private peek(): Line | undefined {
    return this.lines[this.index];
  }

  document(): YamlValue {
    const first = this.peek();
    if (!first) return null;
    const value = this.block(first.indent);
    const extra = this.peek();
    if (extra) throw new YamlSubsetError(extra.number, `unexpected here: ${extra.text}`);
    return value;
  }

  private block(indent: number): YamlValue {
    const first = this.peek();
    if (!first || first.indent !== indent) return null;
    return isSequenceItem(first.text) ? this.sequence(indent) : this.mapping(indent);
  }

  /** The value after `key:` or `-` with nothing on the line: the more indented block, if any. */
  private nested(parentIndent: number, allowSequenceAtSameIndent: boolean): YamlValue {
    const next = this.peek();
    if (!next) return null;
    if (next.indent > parentIndent) return this.block(next.indent);
    if (allowSequenceAtSameIndent && next.indent === parentIndent && isSequenceItem(next.text)) {
      return this.sequence(parentIndent);
    }
    return null;
  }

  private sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = [];
    for (let line = this.peek(); line && line.indent === indent; line = this.peek()) {
      // A key at this indent ends a sequence that was a mapping value at the key's own indent.
      if (!isSequenceItem(line.text)) break;
      const rest = line.text.slice(1).trimStart();
      if (rest === '') {
        this.index++;
        items.push(this.nested(indent, false));
        continue;
      }
      const itemIndent = indent + (line.text.length - rest.length);
      if (splitKey(rest, line.number) || isSequenceItem(rest)) {
        // "- key: value": a mapping (or "- - x": a sequence) that starts on the item's own line.
        this.lines[this.index] = { number: line.number, indent: itemIndent, text: rest };
        items.push(this.block(itemIndent));
        continue;
      }
      this.index++;
      items.push(parseScalar(rest, line.number));
      const after = this.peek();
      if (after && after.indent > indent) {
        throw new YamlSubsetError(after.number, 'multi-line scalars are not supported');
      }
    }
    return items;
  }

  private mapping(indent: number): YamlMap {
    const map: YamlMap = {};
    for (let line = this.peek(); line && line.indent === indent; line = this.peek()) {
      if (isSequenceItem(line.text)) {
        throw new YamlSubsetError(line.number, 'a sequence item where a mapping key was expected');
      }
      const pair = splitKey(line.text, line.number);
      if (!pair) throw new YamlSubsetError(line.number, `expected "key: value": ${line.text}`);
      if (Object.hasOwn(map, pair.key)) {
        throw new YamlSubsetError(line.number, `duplicate key "${pair.key}"`);
      }
      this.index++;
      if (pair.rest === '') {
        map[pair.key] = this.nested(indent, true);
      } else {
        map[pair.key] = parseScalar(pair.rest, line.number);
        const after = this.peek();
        if (after && after.indent > indent) {
          throw new YamlSubsetError(after.number, 'multi-line scalars are not supported');
        }
      }
    }
    return map;
  }
}

export function parseYamlSubset(source: string): YamlValue {
  return new Reader(toLines(source)).document();
}

export function isYamlMap(value: YamlValue | undefined): value is YamlMap {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
