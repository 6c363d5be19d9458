/**
 * Secret detection and redaction. This file is the one place that defines which secrets runbox
 * recognises: output redaction uses it line by line, and the code scan before a run
 * (validation/secret-scan.ts) uses `findSecrets` on the submitted code.
 *
 * Every pattern is bounded (no unbounded quantifier over a class that can also match what follows
 * it), so one hostile 1 MB line costs linear time, never catastrophic backtracking.
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
  readonly kind: SecretKind;
  /** Global; with `group`, also the `d` flag so the group's offsets are known. */
  readonly pattern: RegExp;
  /** The capture group that holds the secret; the rest of the match is context and stays. */
  readonly group?: number;
  /** A last check on the secret, for patterns that would otherwise catch ordinary words. */
  readonly accept?: (secret: string) => boolean;
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

interface ScanResult {
  spans: SecretSpan[];
  insidePrivateKeyAtEnd: boolean;
}

/**
 * Private key blocks, found with two marker searches instead of one BEGIN...END pattern: a lazy
 * `[\s\S]*?` between them would rescan the rest of the text for every BEGIN.
 */
function scanPrivateKeys(text: string, insideAtStart: boolean): ScanResult {
  const spans: SecretSpan[] = [];
  let position = 0;
  let blockStart = insideAtStart ? 0 : -1;
  for (;;) {
    if (blockStart >= 0) {
      PRIVATE_KEY_END.lastIndex = position;
      const end = PRIVATE_KEY_END.exec(text);
      const blockEnd = end ? end.index + end[0].length : text.length;
      if (blockEnd > blockStart)
        spans.push({ kind: 'private-key', start: blockStart, end: blockEnd });
      if (!end) return { spans, insidePrivateKeyAtEnd: true };
      position = blockEnd;
      blockStart = -1;
    } else {
      PRIVATE_KEY_BEGIN.lastIndex = position;
      const begin = PRIVATE_KEY_BEGIN.exec(text);
      if (!begin) return { spans, insidePrivateKeyAtEnd: false };
      blockStart = begin.index;
      position = begin.index + begin[0].length;
    }
  }
}

function scanPattern(
  text: string,
  pattern: RegExp,
  kind: RedactionKind,
  detector: PatternDetector | undefined,
  spans: SecretSpan[],
): void {
  pattern.lastIndex = 0;
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const group = detector?.group ?? 0;
    const range = group === 0 ? undefined : match.indices?.[group];
    const start = range ? range[0] : match.index;
    const end = range ? range[1] : match.index + match[0].length;
    const secret = text.slice(start, end);
    if (end > start && (detector?.accept === undefined || detector.accept(secret))) {
      spans.push({ kind, start, end });
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

function scan(text: string, extraPatterns: readonly RegExp[], insideAtStart: boolean): ScanResult {
  const privateKeys = scanPrivateKeys(text, insideAtStart);
  const spans = [...privateKeys.spans];
  for (const detector of PATTERN_DETECTORS) {
    scanPattern(text, detector.pattern, detector.kind, detector, spans);
  }
  for (const pattern of extraPatterns)
    scanPattern(text, pattern, CUSTOM_SECRET_KIND, undefined, spans);
  return { spans: mergeSpans(spans), insidePrivateKeyAtEnd: privateKeys.insidePrivateKeyAtEnd };
}

/**
 * Every built-in secret in `text`, sorted by position, overlaps merged. A private key block counts
 * as one span from BEGIN to END (or to the end of the text when END is missing).
 */
export function findSecrets(text: string): SecretSpan[] {
  return scan(text, [], false).spans;
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
 * backtracks badly will do so on every line.
 */
export function createRedactor(extraPatterns: readonly RegExp[] = []): Redactor {
  const extra = extraPatterns.map(toGlobal);
  let insideKey = false;
  return {
    redact(text) {
      return replaceSpans(text, scan(text, extra, false).spans);
    },
    redactLine(line) {
      const result = scan(line, extra, insideKey);
      insideKey = result.insidePrivateKeyAtEnd;
      return replaceSpans(line, result.spans);
    },
    insidePrivateKey() {
      return insideKey;
    },
  };
}
