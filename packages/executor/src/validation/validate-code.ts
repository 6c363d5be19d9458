import type { Language } from '../languages/language.ts';
import { DEFAULT_MAX_CODE_BYTES, checkCodeSize } from './code-size.ts';
import {
  DEFAULT_DANGEROUS_PATTERN_MODE,
  checkDangerousPatterns,
  type DangerousPatternMode,
} from './dangerous-patterns.ts';
import { DEFAULT_SECRET_POLICY, checkSecrets, type SecretPolicy } from './secret-scan.ts';

export interface ValidationPolicy {
  /** Largest snippet in UTF-8 bytes. Default 102400 (100 KB). */
  maxCodeBytes?: number;
  /** 'reject' (default) refuses code that contains a secret; 'warn' only warns. */
  secrets?: SecretPolicy;
  /** 'off', 'warn' (default) or 'block' for eval, subprocess, raw sockets and the like. */
  dangerousPatterns?: DangerousPatternMode;
}

export interface ValidateCodeInput {
  language: Language;
  code: string;
  policy?: ValidationPolicy;
}

export interface ValidationWarning {
  readonly check: 'secret' | 'dangerous-pattern';
  /** The secret kind or the dangerous-pattern rule id. */
  readonly rule: string;
  /** 1-based line. */
  readonly line: number;
  readonly message: string;
  /** The flagged line, redacted; dangerous patterns only (a secret's line is never echoed). */
  readonly excerpt?: string;
}

export interface ValidateCodeResult {
  readonly warnings: ValidationWarning[];
}

/**
 * Checks a snippet before anything is spawned: size, then secrets, then dangerous patterns. Throws
 * the first failure (CodeTooLargeError, SecretInCodeError, DangerousPatternError); otherwise
 * returns the warnings. Pure. The syntax check needs the interpreter, so the engine runs it inside
 * the sandbox with syntaxCheckArgv and turns a failure into SyntaxCheckError with syntaxCheckError.
 */
export function validateCode(input: ValidateCodeInput): ValidateCodeResult {
  const policy = input.policy ?? {};
  checkCodeSize(input.code, policy.maxCodeBytes ?? DEFAULT_MAX_CODE_BYTES);
  const secrets = checkSecrets(input.code, policy.secrets ?? DEFAULT_SECRET_POLICY);
  const dangerous = checkDangerousPatterns(
    input.language,
    input.code,
    policy.dangerousPatterns ?? DEFAULT_DANGEROUS_PATTERN_MODE,
  );
  return {
    warnings: [
      ...secrets.map((finding): ValidationWarning => ({
        check: 'secret',
        rule: finding.kind,
        line: finding.line,
        message: finding.message,
      })),
      ...dangerous.map((finding): ValidationWarning => ({
        check: 'dangerous-pattern',
        rule: finding.rule,
        line: finding.line,
        message: finding.message,
        excerpt: finding.excerpt,
      })),
    ],
  };
}
