/**
 * The opt-in PII filter: e-mail addresses, phone numbers, payment card numbers and IBANs in a run's
 * output become tokens (`<EMAIL_1>`, `<PHONE_1>`, `<CARD_1>`, `<IBAN_1>`) before anything is stored
 * or streamed. The same datum gets the same token everywhere in one run, on stdout and stderr alike,
 * so output stays readable ("<EMAIL_1> logged in, <EMAIL_1> logged out") without the data itself.
 * Tokens are numbered per kind in the order the data first show up; they say nothing about the data.
 *
 * Like secret redaction it works across pieces of a line (`line-filter.ts`): the end of a piece that
 * could still grow into a datum waits for the next piece or the end of the line.
 */
import { createLineFilter, replaceInRange, type LineFilter } from './line-filter.ts';
import {
  findPii,
  PII_MAX_MATCH_LENGTH,
  piiOpenStart,
  type PiiKind,
  type PiiMatch,
} from './pii-detect.ts';

/** Distinct data remembered per run; past it every new datum gets the kind's bare token. */
export const DEFAULT_MAX_PII_TOKENS = 10_000;

const TOKEN_NAMES: Record<PiiKind, string> = {
  email: 'EMAIL',
  phone: 'PHONE',
  card: 'CARD',
  iban: 'IBAN',
};

export interface PiiTokens {
  /** The token for one datum: `<EMAIL_3>`, the same for the same value every time. */
  tokenFor(kind: PiiKind, value: string): string;
  /** Distinct data seen so far. */
  size(): number;
}

/**
 * The tokens of one run. Memory stays bounded: after `maxTokens` distinct data, new ones get the
 * bare token of their kind (`<EMAIL>`), still hiding the datum but no longer telling them apart.
 */
export function createPiiTokens(maxTokens = DEFAULT_MAX_PII_TOKENS): PiiTokens {
  const tokens = new Map<string, string>();
  const counts: Record<PiiKind, number> = { email: 0, phone: 0, card: 0, iban: 0 };
  return {
    tokenFor(kind, value) {
      const key = `${kind}:${value}`;
      const known = tokens.get(key);
      if (known !== undefined) return known;
      if (tokens.size >= maxTokens) return `<${TOKEN_NAMES[kind]}>`;
      counts[kind] += 1;
      const token = `<${TOKEN_NAMES[kind]}_${counts[kind]}>`;
      tokens.set(key, token);
      return token;
    },
    size: () => tokens.size,
  };
}

/** A filter for the lines of one output stream; the streams of a run share `tokens`. */
export function createPiiFilter(tokens: PiiTokens): LineFilter {
  return createLineFilter<PiiMatch>({
    maxHold: PII_MAX_MATCH_LENGTH,
    scan(window, shownUpTo, lineEnds) {
      const spans = findPii(window).filter((match) => match.end > shownUpTo);
      return {
        spans,
        unbreakable: spans,
        openFrom: lineEnds ? window.length : piiOpenStart(window),
      };
    },
    render(window, from, to, scan) {
      return replaceInRange(window, from, to, scan.spans, (match) =>
        tokens.tokenFor(match.kind, match.value),
      );
    },
  });
}
