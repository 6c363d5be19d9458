import type { Language } from '../languages/language.ts';

/**
 * Why submitted code was refused before it ran. Each error names what was wrong and the limit,
 * rule or line it broke; none of them repeats a secret it found.
 */

export class CodeTooLargeError extends Error {
  readonly code = 'CODE_TOO_LARGE';
  /** UTF-8 byte length of the submitted code. */
  readonly sizeBytes: number;
  readonly maxBytes: number;
  constructor(options: { sizeBytes: number; maxBytes: number }) {
    super(
      `code is ${options.sizeBytes} bytes (UTF-8), more than the limit of ${options.maxBytes} bytes`,
    );
    this.name = 'CodeTooLargeError';
    this.sizeBytes = options.sizeBytes;
    this.maxBytes = options.maxBytes;
  }
}

export class SecretInCodeError extends Error {
  readonly code = 'SECRET_IN_CODE';
  /** The kind of the first secret found, e.g. 'github-token'. */
  readonly kind: string;
  /** 1-based line of the first secret found. */
  readonly line: number;
  /** Every secret found, by kind and line. */
  readonly findings: readonly { readonly kind: string; readonly line: number }[];
  constructor(options: { findings: readonly { kind: string; line: number }[] }) {
    const first = options.findings[0] ?? { kind: 'unknown', line: 0 };
    const more = options.findings.length > 1 ? ` (and ${options.findings.length - 1} more)` : '';
    super(
      `code contains a secret (${first.kind}) on line ${first.line}${more}; ` +
        'remove it, secrets must not be submitted with code',
    );
    this.name = 'SecretInCodeError';
    this.kind = first.kind;
    this.line = first.line;
    this.findings = options.findings.map(({ kind, line }) => ({ kind, line }));
  }
}

export class DangerousPatternError extends Error {
  readonly code = 'DANGEROUS_PATTERN';
  /** The rule that matched, e.g. 'python-os-command'. */
  readonly rule: string;
  /** 1-based line of the match. */
  readonly line: number;
  /** The matched line, trimmed, shortened and redacted. */
  readonly excerpt: string;
  constructor(options: { rule: string; line: number; excerpt: string; message: string }) {
    super(
      `code is blocked by rule ${options.rule} on line ${options.line}: ${options.message} ` +
        `(${options.excerpt})`,
    );
    this.name = 'DangerousPatternError';
    this.rule = options.rule;
    this.line = options.line;
    this.excerpt = options.excerpt;
  }
}

export class SyntaxCheckError extends Error {
  readonly code = 'SYNTAX_ERROR';
  readonly language: Language;
  /** 1-based line the checker named, or null when its output named none. */
  readonly line: number | null;
  /** The checker's own message, e.g. "SyntaxError: invalid syntax". */
  readonly detail: string;
  constructor(options: { language: Language; line: number | null; detail: string }) {
    const where = options.line === null ? '' : ` on line ${options.line}`;
    super(`${options.language} code has a syntax error${where}: ${options.detail}`);
    this.name = 'SyntaxCheckError';
    this.language = options.language;
    this.line = options.line;
    this.detail = options.detail;
  }
}

export type CodeValidationError =
  CodeTooLargeError | SecretInCodeError | DangerousPatternError | SyntaxCheckError;

export function isCodeValidationError(error: unknown): error is CodeValidationError {
  return (
    error instanceof CodeTooLargeError ||
    error instanceof SecretInCodeError ||
    error instanceof DangerousPatternError ||
    error instanceof SyntaxCheckError
  );
}
