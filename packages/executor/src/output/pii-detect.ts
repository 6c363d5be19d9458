/**
 * Personal data in output text: e-mail addresses, phone numbers, payment card numbers and IBANs.
 * Used by the opt-in PII filter (`pii-filter.ts`), which replaces each with a token.
 *
 * The scanners are hand-written loops, not regular expressions: each looks at most a bounded
 * distance around an anchor ('@', a digit, two capitals), and resumes after what it examined, so a
 * hostile 1 MB line costs linear time. They are heuristics, tuned to miss rather than to mangle
 * ordinary output (dates, times, versions, IP addresses, timestamps):
 * - e-mail: `local@domain.tld`, local part up to 64 of `A-Z a-z 0-9 . _ + -`, a domain of at
 *   least two labels up to 253 characters whose last label is 2 or more letters.
 * - phone: `+` and 8 to 15 digits in groups (`+49 30 1234567`, `+1 (555) 123-4567`); North American
 *   `555-123-4567`, `555.123.4567`, `(555) 123-4567`, optionally with a leading `1`; national
 *   numbers with a trunk 0 and one kind of separator (`030 1234 5678`, `0171-1234567`), 10 to 12
 *   digits. A bare run of digits is never a phone number.
 * - card: 13 to 19 digits starting with 2 to 6 (the card networks' ranges), in one run or in groups
 *   of 2 to 8 digits split by one kind of separator (space or dash), passing the Luhn check.
 * - IBAN: two capital letters, two check digits, then capitals or digits, 15 to 34 in all, in one run
 *   or in groups of four split by single spaces, passing the ISO 7064 mod-97 check.
 */

export const PII_KINDS = ['email', 'phone', 'card', 'iban'] as const;
export type PiiKind = (typeof PII_KINDS)[number];

export interface PiiMatch {
  readonly kind: PiiKind;
  readonly start: number;
  readonly end: number;
  /** The same datum written the same way: lower-cased e-mail, digits (and a leading +) of a phone
   * number or card, an IBAN in capitals without spaces. */
  readonly value: string;
}

const MAX_LOCAL = 64;
const MAX_DOMAIN = 253;
const MAX_PHONE_TEXT = 30;
const MAX_CARD_TEXT = 19 + 18;
const MAX_IBAN_TEXT = 34 + 8;

/** The most text one match can span: what the filter may have to hold back. */
export const PII_MAX_MATCH_LENGTH = MAX_LOCAL + 1 + MAX_DOMAIN;

const isDigit = (code: number): boolean => code >= 48 && code <= 57;
const isUpper = (code: number): boolean => code >= 65 && code <= 90;
const isLower = (code: number): boolean => code >= 97 && code <= 122;
const isAlnum = (code: number): boolean => isDigit(code) || isUpper(code) || isLower(code);
const isWordChar = (code: number): boolean => isAlnum(code) || code === 95; // _

const code = (text: string, index: number): number =>
  index >= 0 && index < text.length ? text.charCodeAt(index) : -1;

// '%' is allowed in addresses but almost never used; leaving it out keeps "50%" from waiting.
function isLocalChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 95 || c === 43 || c === 45; // . _ + -
}
function isDomainChar(c: number): boolean {
  return isAlnum(c) || c === 46 || c === 45; // . -
}

function validDomain(domain: string): boolean {
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  for (const label of labels) {
    if (label.length === 0 || label.length > 63) return false;
    if (label.startsWith('-') || label.endsWith('-')) return false;
  }
  return /^[A-Za-z]{2,63}$/.test(labels[labels.length - 1] ?? '');
}

function findEmails(text: string, out: PiiMatch[]): void {
  let from = 0;
  let lastEnd = 0;
  for (;;) {
    const at = text.indexOf('@', from);
    if (at === -1) return;
    from = at + 1;
    let start = at;
    while (start > lastEnd && at - start < MAX_LOCAL && isLocalChar(code(text, start - 1))) start--;
    while (start < at && text[start] === '.') start++;
    if (start === at) continue;
    let end = at + 1;
    while (end < text.length && end - at - 1 < MAX_DOMAIN && isDomainChar(code(text, end))) end++;
    while (end > at + 1 && (text[end - 1] === '.' || text[end - 1] === '-')) end--;
    if (!validDomain(text.slice(at + 1, end))) continue;
    out.push({ kind: 'email', start, end, value: text.slice(start, end).toLowerCase() });
    lastEnd = end;
    from = end;
  }
}

/** A group of digits as the phone parser reads it. */
interface DigitGroup {
  digits: string;
  parenthesized: boolean;
  /** The separator before this group: '', ' ', '-', '.', or ')' for right after a parenthesis. */
  before: string;
}

const isPhoneSeparator = (c: number): boolean => c === 32 || c === 45 || c === 46; // space - .

/** Reads digit groups from `start`; null when the phone-like text runs on past any phone number. */
function readPhoneGroups(
  text: string,
  start: number,
): { groups: DigitGroup[]; end: number } | null {
  const groups: DigitGroup[] = [];
  let position = start;
  let end = start;
  let before = '';
  for (;;) {
    const parenthesized = text[position] === '(';
    const groupStart = parenthesized ? position + 1 : position;
    let digitEnd = groupStart;
    while (isDigit(code(text, digitEnd)) && digitEnd - start <= MAX_PHONE_TEXT) digitEnd++;
    if (digitEnd - start > MAX_PHONE_TEXT) return null;
    if (digitEnd === groupStart || (parenthesized && text[digitEnd] !== ')')) break;
    groups.push({ digits: text.slice(groupStart, digitEnd), parenthesized, before });
    position = end = parenthesized ? digitEnd + 1 : digitEnd;
    const next = code(text, position);
    const afterNext = code(text, position + 1);
    if (parenthesized && isDigit(next)) {
      before = ')';
    } else if (isPhoneSeparator(next) && (isDigit(afterNext) || afterNext === 40)) {
      before = text[position] ?? '';
      position++;
    } else {
      break;
    }
  }
  return groups.length === 0 ? null : { groups, end };
}

function sameSeparators(groups: readonly DigitGroup[]): boolean {
  return new Set(groups.map((group) => group.before)).size <= 1;
}

function isNorthAmerican(groups: readonly DigitGroup[]): boolean {
  const rest = groups.length === 4 && groups[0]?.digits === '1' ? groups.slice(1) : groups;
  if (rest.length !== 3) return false;
  const [area, exchange, line] = rest;
  if (area?.digits.length !== 3 || exchange?.digits.length !== 3 || line?.digits.length !== 4) {
    return false;
  }
  if (exchange.parenthesized || line.parenthesized) return false;
  // "(555) 123-4567" mixes separators on purpose; without parentheses they agree.
  return area.parenthesized || sameSeparators(groups.slice(1));
}

function isNationalWithTrunk(groups: readonly DigitGroup[], digitCount: number): boolean {
  const [first, ...rest] = groups;
  if (!first || rest.length === 0 || digitCount < 10 || digitCount > 12) return false;
  if (!first.digits.startsWith('0') || rest.some((group) => group.parenthesized)) return false;
  // "(030) 1234567": the group right after the parenthesis may follow it directly or after a space.
  const separated = first.parenthesized ? rest.slice(1) : rest;
  if (first.parenthesized && rest[0]?.before !== ')' && rest[0]?.before !== ' ') return false;
  return (
    separated.every((group) => group.before === ' ' || group.before === '-') &&
    sameSeparators(separated)
  );
}

function findPhones(text: string, out: PiiMatch[]): void {
  PHONE_START.lastIndex = 0;
  let found: RegExpExecArray | null;
  while ((found = PHONE_START.exec(text)) !== null) {
    const index = found.index;
    const c = code(text, index);
    const previous = code(text, index - 1);
    // Inside a date, a version, a list of numbers: "2024-01-15", "DE89 3704 0044 …".
    const separatorBefore =
      previous === 32 || previous === 45 || previous === 46 || previous === 47;
    if (separatorBefore && isDigit(code(text, index - 2))) continue;
    const plus = c === 43;
    const read = readPhoneGroups(text, plus ? index + 1 : index);
    if (!read) continue;
    const { groups, end } = read;
    const after = code(text, end);
    if (isWordChar(after)) continue;
    if ((after === 45 || after === 46) && isDigit(code(text, end + 1))) continue;
    const digits = groups.map((group) => group.digits).join('');
    const ok = plus
      ? digits.length >= 8 && digits.length <= 15 && !groups[0]?.parenthesized
      : isNorthAmerican(groups) || isNationalWithTrunk(groups, digits.length);
    if (!ok) continue;
    out.push({ kind: 'phone', start: index, end, value: plus ? `+${digits}` : digits });
    PHONE_START.lastIndex = end;
  }
}

/**
 * The Luhn check of a number that grows digit by digit from the left, in constant time per digit.
 * From the right every second digit is doubled, so which ones depends on the final length: both
 * sums are kept, one doubling the digits at even positions from the left, one those at odd ones.
 */
class LuhnSums {
  length = 0;
  private doublingEven = 0;
  private doublingOdd = 0;
  add(digit: number): void {
    const doubled = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    const even = this.length % 2 === 0;
    this.doublingEven += even ? doubled : digit;
    this.doublingOdd += even ? digit : doubled;
    this.length += 1;
  }
  valid(): boolean {
    // The rightmost digit (position length - 1) is not doubled: the doubled ones share length's parity.
    return (this.length % 2 === 0 ? this.doublingEven : this.doublingOdd) % 10 === 0;
  }
}

interface CardGroup {
  start: number;
  end: number;
  /** The separator before this group; '' for the first. */
  before: string;
}

/** The longest card number starting at group `first` of a run, if any. */
function cardFrom(
  text: string,
  groups: readonly CardGroup[],
  first: number,
  runEndsClean: boolean,
): { end: number; digits: string } | null {
  const firstGroup = groups[first];
  if (!firstGroup) return null;
  const lead = code(text, firstGroup.start);
  if (lead < 50 || lead > 54) return null; // 2 to 6: the card networks' ranges
  const groupFits = (group: CardGroup) =>
    group.end - group.start >= 2 && group.end - group.start <= 8;
  let bestEnd = -1;
  const luhn = new LuhnSums();
  for (let last = first; last < groups.length; last++) {
    const group = groups[last];
    if (!group || luhn.length + (group.end - group.start) > 19) break;
    // Written in groups: one kind of separator, every group 2 to 8 digits.
    if (last > first && (group.before !== groups[first + 1]?.before || !groupFits(group))) break;
    if (last === first + 1 && !groupFits(firstGroup)) break;
    for (let index = group.start; index < group.end; index++) luhn.add(text.charCodeAt(index) - 48);
    const atRunEnd = last === groups.length - 1;
    if (luhn.length >= 13 && (!atRunEnd || runEndsClean) && luhn.valid()) bestEnd = group.end;
  }
  if (bestEnd === -1) return null;
  return { end: bestEnd, digits: text.slice(firstGroup.start, bestEnd).replace(/[ -]/g, '') };
}

function findCards(text: string, out: PiiMatch[]): void {
  let index = 0;
  while (index < text.length) {
    if (!isDigit(code(text, index))) {
      DIGIT.lastIndex = index;
      const digit = DIGIT.exec(text);
      if (!digit) return;
      index = digit.index;
    }
    // A run: digits with single spaces or dashes between them.
    const runStart = index;
    const groups: CardGroup[] = [];
    let before = '';
    let position = index;
    for (;;) {
      const groupStart = position;
      while (isDigit(code(text, position))) position++;
      groups.push({ start: groupStart, end: position, before });
      const next = code(text, position);
      if ((next === 32 || next === 45) && isDigit(code(text, position + 1))) {
        before = text[position] ?? '';
        position++;
      } else break;
    }
    index = position;
    const previous = code(text, runStart - 1);
    if (isWordChar(previous)) continue;
    if ((previous === 46 || previous === 44) && isDigit(code(text, runStart - 2))) continue; // 3.14…
    const after = code(text, position);
    const runEndsClean =
      !isWordChar(after) && !((after === 46 || after === 44) && isDigit(code(text, position + 1)));
    for (let first = 0; first < groups.length; first++) {
      const card = cardFrom(text, groups, first, runEndsClean);
      if (!card) continue;
      const start = groups[first]?.start ?? runStart;
      out.push({ kind: 'card', start, end: card.end, value: card.digits });
      while (first + 1 < groups.length && (groups[first + 1]?.start ?? 0) < card.end) first++;
    }
  }
}

/** ISO 7064 mod 97 of `remainder` followed by one IBAN character (A = 10 … Z = 35). */
function mod97Step(remainder: number, c: number): number {
  return isDigit(c) ? (remainder * 10 + c - 48) % 97 : (remainder * 100 + c - 55) % 97;
}

const isIbanChar = (c: number): boolean => isDigit(c) || isUpper(c);

/** The longest valid IBAN starting at `start` (its first four characters already checked). */
function ibanAt(text: string, start: number): { end: number; value: string } | null {
  // The check moves the first four characters to the end: keep the account part's remainder as it
  // grows and finish it with those four for each possible end.
  const finish = (remainder: number): boolean => {
    let r = remainder;
    for (let index = start; index < start + 4; index++) r = mod97Step(r, text.charCodeAt(index));
    return r === 1;
  };
  let remainder = 0;
  let length = 4;
  let position = start + 4;
  let bestEnd = -1;
  if (isIbanChar(code(text, position))) {
    while (isIbanChar(code(text, position)) && length <= 34) {
      remainder = mod97Step(remainder, text.charCodeAt(position));
      length++;
      position++;
    }
    if (isWordChar(code(text, position)) || length > 34) return null;
    if (length >= 15 && finish(remainder)) bestEnd = position;
  } else {
    // Groups of four after single spaces; the last may be shorter.
    while (text[position] === ' ' && isIbanChar(code(text, position + 1))) {
      let groupEnd = position + 1;
      while (isIbanChar(code(text, groupEnd)) && groupEnd - position - 1 < 5) groupEnd++;
      const groupLength = groupEnd - position - 1;
      if (groupLength > 4 || isWordChar(code(text, groupEnd)) || length + groupLength > 34) break;
      for (let index = position + 1; index < groupEnd; index++) {
        remainder = mod97Step(remainder, text.charCodeAt(index));
      }
      length += groupLength;
      position = groupEnd;
      if (length >= 15 && finish(remainder)) bestEnd = position;
      if (groupLength < 4) break;
    }
  }
  if (bestEnd === -1) return null;
  return { end: bestEnd, value: text.slice(start, bestEnd).replaceAll(' ', '') };
}

// Where a datum can begin; the native search skips everything else quickly.
const DIGIT = /[0-9]/g;
const IBAN_START = /(?<![A-Za-z0-9_])[A-Z]{2}[0-9]{2}/g;
const PHONE_START = /(?<![A-Za-z0-9_+@])[0-9+(]/g;

function findIbans(text: string, out: PiiMatch[]): void {
  IBAN_START.lastIndex = 0;
  let start: RegExpExecArray | null;
  while ((start = IBAN_START.exec(text)) !== null) {
    const iban = ibanAt(text, start.index);
    if (!iban) continue;
    out.push({ kind: 'iban', start: start.index, end: iban.end, value: iban.value });
    IBAN_START.lastIndex = iban.end;
  }
}

/** Every datum found, sorted; where two overlap the earlier (then the longer) one wins. */
export function findPii(text: string): PiiMatch[] {
  const found: PiiMatch[] = [];
  findEmails(text, found);
  findCards(text, found);
  findIbans(text, found);
  findPhones(text, found);
  found.sort((a, b) => a.start - b.start || b.end - a.end);
  const chosen: PiiMatch[] = [];
  let lastEnd = 0;
  for (const match of found) {
    if (match.start < lastEnd) continue;
    chosen.push(match);
    lastEnd = match.end;
  }
  return chosen;
}

/** The start of the longest run of `allowed` characters ending at `end`, at most `max` long. */
function runBefore(
  text: string,
  end: number,
  allowed: (c: number) => boolean,
  max: number,
): number {
  let start = end;
  while (start > 0 && end - start < max && allowed(text.charCodeAt(start - 1))) start--;
  return start;
}

/** The first index from `from` where `fits` holds; `text.length` when none. */
function firstWhere(text: string, from: number, fits: (index: number) => boolean): number {
  for (let index = from; index < text.length; index++) if (fits(index)) return index;
  return text.length;
}

const isPhoneChar = (c: number): boolean =>
  isDigit(c) || c === 32 || c === 40 || c === 41 || c === 43 || c === 45 || c === 46; // space ( ) + - .

/**
 * The earliest index from which the end of `text` could still grow into a datum once more text
 * comes; `text.length` when none. Generous: any trailing word could be an e-mail's local part, any
 * trailing number a phone or card number still being printed.
 */
export function piiOpenStart(text: string): number {
  const end = text.length;
  // E-mail: a local part still waiting for its '@', or an address whose domain may go on.
  let open = runBefore(text, end, isLocalChar, MAX_LOCAL);
  const domainStart = runBefore(text, end, isDomainChar, MAX_DOMAIN);
  if (text[domainStart - 1] === '@') {
    open = Math.min(open, runBefore(text, domainStart - 1, isLocalChar, MAX_LOCAL));
  }
  // Phone and card numbers: digits with separators, from their first digit (or + or parenthesis).
  const phoneStart = runBefore(text, end, isPhoneChar, MAX_PHONE_TEXT);
  open = Math.min(
    open,
    firstWhere(text, phoneStart, (index) => {
      const c = text.charCodeAt(index);
      return isDigit(c) || c === 43 || c === 40;
    }),
  );
  const cardStart = runBefore(text, end, (c) => isDigit(c) || c === 32 || c === 45, MAX_CARD_TEXT);
  open = Math.min(
    open,
    firstWhere(text, cardStart, (index) => isDigit(text.charCodeAt(index))),
  );
  // IBAN: two capitals, two digits, then capitals, digits and single spaces.
  const ibanStart = runBefore(text, end, (c) => isIbanChar(c) || c === 32, MAX_IBAN_TEXT);
  open = Math.min(
    open,
    firstWhere(
      text,
      ibanStart,
      (index) =>
        isUpper(code(text, index)) &&
        (index + 1 >= end || isUpper(code(text, index + 1))) &&
        (index + 2 >= end || isDigit(code(text, index + 2))) &&
        (index + 3 >= end || isDigit(code(text, index + 3))),
    ),
  );
  return open;
}
