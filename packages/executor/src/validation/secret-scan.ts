import { findSecrets, type RedactionKind } from '../output/redact.ts';
import { SecretInCodeError } from './validation-errors.ts';

/** What to do with a secret in submitted code: refuse the run (default) or only warn. */
export type SecretPolicy = 'reject' | 'warn';
export const DEFAULT_SECRET_POLICY: SecretPolicy = 'reject';

export interface SecretFinding {
  /** One of the kinds defined in output/redact.ts. */
  readonly kind: RedactionKind;
  /** 1-based line where the secret starts. */
  readonly line: number;
  /** 1-based column (UTF-16 code units) where the secret starts. */
  readonly column: number;
  /** Says what was found and where, never the secret itself. */
  readonly message: string;
}

/**
 * Every secret in the code, found with the same detectors that redact run output. Comments are not
 * skipped: a key in a comment is as leaked as a key in a string.
 */
export function findSecretsInCode(code: string): SecretFinding[] {
  const findings: SecretFinding[] = [];
  let line = 1;
  let lineStart = 0;
  // Spans come sorted, so line counting only ever moves forward.
  for (const span of findSecrets(code)) {
    let newline = code.indexOf('\n', lineStart);
    while (newline !== -1 && newline < span.start) {
      line += 1;
      lineStart = newline + 1;
      newline = code.indexOf('\n', lineStart);
    }
    findings.push({
      kind: span.kind,
      line,
      column: span.start - lineStart + 1,
      message: `a secret (${span.kind}) on line ${line}`,
    });
  }
  return findings;
}

/**
 * Applies the policy: 'reject' throws SecretInCodeError naming the first secret's kind and line;
 * 'warn' returns the findings for the caller to pass on as warnings.
 */
export function checkSecrets(
  code: string,
  policy: SecretPolicy = DEFAULT_SECRET_POLICY,
): SecretFinding[] {
  const findings = findSecretsInCode(code);
  if (policy === 'reject' && findings.length > 0) throw new SecretInCodeError({ findings });
  return findings;
}
