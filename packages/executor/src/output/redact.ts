import {
  createLineFilter,
  replaceInRange,
  type FilterSpan,
  type LineFilter,
  type WindowScan,
  type WindowScanner,
} from './line-filter.ts';
import { analyzePattern, type PatternReach } from './pattern-reach.ts';

/**
 * Secret detection and redaction. This file is the one place that defines which secrets runbox
 * recognises: output redaction uses it line by line, and the code scan before a run
 * (validation/secret-scan.ts) uses `findSecrets` on the submitted code.
 *
 * Every pattern is bounded (no unbounded quantifier over a class that can also match what follows
 * it), so one hostile 1 MB line costs linear time, never catastrophic backtracking.
 *
 * Output arrives in pieces (a line flushed before its newline, a long line cut at the maximum
 * length). `Redactor.lineFilter()` redacts across them: the end of a piece that could still be the
 * beginning of a secret (`pattern-reach.ts` says where that begins) waits for the next piece, so a
 * token printed in two writes far apart is redacted whole, and nothing shown is taken back.
 */

/** The kinds of secret runbox recognises. The kind names appear in `[REDACTED:<kind>]` markers. */
export const SECRET_KINDS = [
  'aws-access-key-id',
  'aws-secret-access-key',
  'github-token',
  'slack-token',
  'slack-webhook',
  'private-key',
  'bearer-token',
] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];

/** The kind used in markers for matches of caller-supplied patterns. */
export const CUSTOM_SECRET_KIND = 'custom';
export type RedactionKind = SecretKind | typeof CUSTOM_SECRET_KIND;

/** One secret found in a text: `text.slice(start, end)` is the secret itself, without context. */
export interface SecretSpan {
  readonly kind: RedactionKind;
  readonly start: number;
  readonly end: number;
}

export interface RedactionResult {
  /** The text with every secret replaced by `[REDACTED:<kind>]`. */
  readonly text: string;
  /** How many markers were put in (overlapping finds count once; in line mode, once per line). */
  readonly redactions: number;
}

export interface Redactor {
  /**
   * The longest text one secret can span, with the text its pattern reads around it, in UTF-16
   * code units: the most a line filter holds back for one match. Configured patterns that are
   * unbounded count as `PATTERN_REACH_CAP`.
   */
  readonly maxMatchLength: number;
  /**
   * A filter for the lines of one output stream that arrive in pieces: what can be shown comes out
   * redacted, the end that could still begin a secret waits for the next piece (or the line's end).
   * Remembers an open private key block across lines, like `redactLine`. One per stream.
   */
  lineFilter(): LineFilter;
  /**
   * Redacts one self-contained text (a message, a whole file). Stateless. A private key block with
   * no END marker is redacted to the end of the text.
   */
  redact(text: string): RedactionResult;
  /**
   * Redacts the next line of one output stream. Remembers an open private key block between calls,
   * so every line from the BEGIN line to the END line is redacted. Use one redactor per stream.
   */
  redactLine(line: string): RedactionResult;
  /** True while a private key block has begun in `redactLine` input and not yet ended. */
  insidePrivateKey(): boolean;
}

export function redactionMarker(kind: RedactionKind): string {
  return `[REDACTED:${kind}]`;
}

interface PatternDetector {
  readonly kind: RedactionKind;
  /** Global; with `group`, also the `d` flag so the group's offsets are known. */
  readonly pattern: RegExp;
  /** The capture group that holds the secret; the rest of the match is context and stays. */
  readonly group?: number;
  /** A last check on the secret, for patterns that would otherwise catch ordinary words. */
  readonly accept?: (secret: string) => boolean;
}

interface Detector extends PatternDetector {
  readonly reach: PatternReach;
}

// A bare "bearer <word>" is often prose ("the bearer of"); only a token-like word counts.
function looksLikeToken(secret: string): boolean {
  return secret.length >= 24 || (secret.length >= 8 && /\d/.test(secret));
}

const PATTERN_DETECTORS: readonly PatternDetector[] = [
  {
    kind: 'aws-access-key-id',
    pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])/g,
  },
  {
    // The secret key itself is 40 base64 characters with no marker; only the name beside it says
    // what it is: aws_secret_access_key = ..., AWS_SECRET_ACCESS_KEY: ..., "awsSecretAccessKey": "...".
    kind: 'aws-secret-access-key',
    pattern:
      /aws_?secret_?access_?key["']?\s{0,5}(?:=>|:=|[:=])\s{0,5}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])/dgi,
    group: 1,
  },
  {
    kind: 'github-token',
    pattern: /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})/g,
  },
  {
    kind: 'slack-webhook',
    pattern:
      /https?:\/\/hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]{8,300}/g,
  },
  {
    kind: 'slack-token',
    pattern: /(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,250}/g,
  },
  {
    // GitHub and Slack come first: when a bearer token is one of those, the marker names it.
    kind: 'bearer-token',
    pattern:
      /authorization["']?\s{0,5}[:=]\s{0,5}["']?bearer\s{1,5}([A-Za-z0-9\-._~+/]{1,4096}={0,4})/dgi,
    group: 1,
  },
  {
    kind: 'bearer-token',
    pattern: /(?<![A-Za-z0-9_])bearer\s{1,5}([A-Za-z0-9\-._~+/]{8,4096}={0,4})/dgi,
    group: 1,
    accept: looksLikeToken,
  },
];

const PRIVATE_KEY_BEGIN = /-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;
const PRIVATE_KEY_END = /-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----/g;

const BUILT_IN_DETECTORS: readonly Detector[] = PATTERN_DETECTORS.map((detector) => ({
  ...detector,
  reach: analyzePattern(detector.pattern),
}));
const BEGIN_REACH = analyzePattern(PRIVATE_KEY_BEGIN);
const END_REACH = analyzePattern(PRIVATE_KEY_END);

/** One private key block: `start..end`, its BEGIN marker ending at `beginEnd` (equal to `start`
 * when the block was already open), its END marker starting at `endStart` (`end` when open). */
interface KeyBlock {
  readonly start: number;
  readonly end: number;
  readonly beginEnd: number;
  readonly endStart: number;
  readonly closed: boolean;
}

interface KeyScan {
  blocks: KeyBlock[];
  insidePrivateKeyAtEnd: boolean;
}

interface ScanResult {
  spans: SecretSpan[];
  insidePrivateKeyAtEnd: boolean;
}

/**
 * Private key blocks from `from` on, found with two marker searches instead of one BEGIN...END
 * pattern: a lazy `[\s\S]*?` between them would rescan the rest of the text for every BEGIN.
 */
function scanPrivateKeys(text: string, insideAtStart: boolean, from = 0): KeyScan {
  const blocks: KeyBlock[] = [];
  let position = from;
  let blockStart = insideAtStart ? from : -1;
  let beginEnd = from;
  for (;;) {
    if (blockStart >= 0) {
      PRIVATE_KEY_END.lastIndex = position;
      const end = PRIVATE_KEY_END.exec(text);
      const blockEnd = end ? end.index + end[0].length : text.length;
      if (blockEnd > blockStart) {
        blocks.push({
          start: blockStart,
          end: blockEnd,
          beginEnd,
          endStart: end ? end.index : blockEnd,
          closed: end !== null,
        });
      }
      if (!end) return { blocks, insidePrivateKeyAtEnd: true };
      position = blockEnd;
      blockStart = -1;
    } else {
      PRIVATE_KEY_BEGIN.lastIndex = position;
      const begin = PRIVATE_KEY_BEGIN.exec(text);
      if (!begin) return { blocks, insidePrivateKeyAtEnd: false };
      blockStart = begin.index;
      position = begin.index + begin[0].length;
      beginEnd = position;
    }
  }
}

/**
 * Adds the secrets `detector` finds in `text` that end after `from` to `spans`, and the whole
 * matches they were found in (context included) to `matches` when given.
 */
function scanPattern(
  text: string,
  detector: PatternDetector,
  spans: SecretSpan[],
  from = 0,
  matches?: FilterSpan[],
): void {
  const { pattern } = detector;
  pattern.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const group = detector.group ?? 0;
    const range = group === 0 ? undefined : match.indices?.[group];
    const start = range ? range[0] : match.index;
    const end = range ? range[1] : match.index + match[0].length;
    const secret = text.slice(start, end);
    if (end > start && (detector.accept === undefined || detector.accept(secret))) {
      const matchEnd = match.index + match[0].length;
      if (end > from) spans.push({ kind: detector.kind, start, end });
      if (matches && matchEnd > from) matches.push({ start: match.index, end: matchEnd });
    } else {
      // A rejected or empty match may hide a real one that starts inside it.
      pattern.lastIndex = match.index + 1;
    }
  }
}

/** Sorts and merges overlapping spans; the first detector to claim a position names the kind. */
function mergeSpans(spans: SecretSpan[]): SecretSpan[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const merged: SecretSpan[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && span.start < last.end) {
      if (span.end > last.end) merged[merged.length - 1] = { ...last, end: span.end };
    } else {
      merged.push(span);
    }
  }
  return merged;
}

function keySpans(blocks: readonly KeyBlock[]): SecretSpan[] {
  return blocks.map((block) => ({ kind: 'private-key', start: block.start, end: block.end }));
}

function scan(text: string, detectors: readonly Detector[], insideAtStart: boolean): ScanResult {
  const privateKeys = scanPrivateKeys(text, insideAtStart);
  const spans = keySpans(privateKeys.blocks);
  for (const detector of detectors) scanPattern(text, detector, spans);
  return { spans: mergeSpans(spans), insidePrivateKeyAtEnd: privateKeys.insidePrivateKeyAtEnd };
}

/**
 * Every built-in secret in `text`, sorted by position, overlaps merged. A private key block counts
 * as one span from BEGIN to END (or to the end of the text when END is missing).
 */
export function findSecrets(text: string): SecretSpan[] {
  return scan(text, BUILT_IN_DETECTORS, false).spans;
}

interface SecretWindowScan extends WindowScan<SecretSpan> {
  readonly blocks: readonly KeyBlock[];
}

/** True when the text right before `position` lies inside a private key block (END not yet shown). */
function insideKeyAt(blocks: readonly KeyBlock[], position: number): boolean {
  return blocks.some(
    (block) => block.beginEnd <= position && (!block.closed || position <= block.endStart),
  );
}

function createSecretLineFilter(detectors: readonly Detector[], maxHold: number): LineFilter {
  // Whether the first held character is inside a private key block.
  let insideKey = false;
  const scanner: WindowScanner<SecretSpan> = {
    maxHold,
    scan(window, shownUpTo, lineEnds): SecretWindowScan {
      // Markers have no lookbehind, so keys are searched in the held text only, from the known state.
      const keys = scanPrivateKeys(window, insideKey, shownUpTo);
      const spans = keySpans(keys.blocks);
      const unbreakable: FilterSpan[] = [];
      for (const block of keys.blocks) {
        if (block.beginEnd > block.start)
          unbreakable.push({ start: block.start, end: block.beginEnd });
        if (block.closed) unbreakable.push({ start: block.endStart, end: block.end });
      }
      for (const detector of detectors) {
        scanPattern(window, detector, spans, shownUpTo, lineEnds ? undefined : unbreakable);
      }
      let openFrom = window.length;
      if (!lineEnds) {
        const marker = keys.insidePrivateKeyAtEnd ? END_REACH : BEGIN_REACH;
        openFrom = marker.openStart(window);
        for (const detector of detectors) {
          openFrom = Math.min(openFrom, detector.reach.openStart(window));
        }
      }
      return { spans: mergeSpans(spans), unbreakable, openFrom, blocks: keys.blocks };
    },
    render(window, from, to, result) {
      const { blocks } = result as SecretWindowScan;
      insideKey = insideKeyAt(blocks, to);
      return replaceInRange(window, from, to, result.spans, (span) => redactionMarker(span.kind));
    },
  };
  return createLineFilter(scanner);
}

function replaceSpans(text: string, spans: readonly SecretSpan[]): RedactionResult {
  if (spans.length === 0) return { text, redactions: 0 };
  let result = '';
  let position = 0;
  for (const span of spans) {
    result += text.slice(position, span.start) + redactionMarker(span.kind);
    position = span.end;
  }
  return { text: result + text.slice(position), redactions: spans.length };
}

// Callers' patterns may lack the g flag (exec would loop forever) or carry y (would stop early).
function toGlobal(pattern: RegExp): RegExp {
  const flags = pattern.flags.replace(/[gy]/g, '');
  return new RegExp(pattern.source, `${flags}g`);
}

/**
 * Makes a redactor. `extraPatterns` are the operator's own secret shapes; their whole match is
 * replaced by `[REDACTED:custom]`. They should be bounded like the built-in ones: a pattern that
 * backtracks badly will do so on every line, and one with an unbounded quantifier is held back
 * across flushes for at most `PATTERN_REACH_CAP` characters.
 */
export function createRedactor(extraPatterns: readonly RegExp[] = []): Redactor {
  const detectors: readonly Detector[] = [
    ...BUILT_IN_DETECTORS,
    ...extraPatterns.map((pattern): Detector => ({
      kind: CUSTOM_SECRET_KIND,
      pattern: toGlobal(pattern),
      reach: analyzePattern(pattern),
    })),
  ];
  const maxMatchLength = Math.max(
    BEGIN_REACH.maxLength,
    END_REACH.maxLength,
    ...detectors.map((detector) => detector.reach.maxLength),
  );
  let insideKey = false;
  return {
    maxMatchLength,
    lineFilter: () => createSecretLineFilter(detectors, maxMatchLength),
    redact(text) {
      return replaceSpans(text, scan(text, detectors, false).spans);
    },
    redactLine(line) {
      const result = scan(line, detectors, insideKey);
      insideKey = result.insidePrivateKeyAtEnd;
      return replaceSpans(line, result.spans);
    },
    insidePrivateKey() {
      return insideKey;
    },
  };
}
