/**
 * Makes an entry name from an upload safe to put in a message or a log line: control characters,
 * invisible formatting characters (bidi overrides, zero-width spaces), line separators and lone
 * surrogates are escaped, as are backslash and double quote, so the result is unambiguous and
 * prints on one line. Long names are cut.
 */

const ESCAPED = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}\\"]/u;

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

export const PRINTABLE_NAME_MAX_CHARS = 200;

export function printableName(name: string, maxChars: number = PRINTABLE_NAME_MAX_CHARS): string {
  let out = '';
  let chars = 0;
  for (const char of name) {
    if (chars >= maxChars) return `${out}…`;
    chars += 1;
    if (!ESCAPED.test(char)) {
      out += char;
      continue;
    }
    const short = SHORT_ESCAPES[char];
    if (short !== undefined) {
      out += short;
      continue;
    }
    const codePoint = char.codePointAt(0) ?? 0;
    out +=
      codePoint <= 0xff
        ? `\\x${codePoint.toString(16).padStart(2, '0')}`
        : codePoint <= 0xffff
          ? `\\u${codePoint.toString(16).padStart(4, '0')}`
          : `\\u{${codePoint.toString(16)}}`;
  }
  return out;
}
