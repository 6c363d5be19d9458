import { describe, expect, it } from 'vitest';
import {
  CodeTooLargeError,
  DangerousPatternError,
  SecretInCodeError,
  SyntaxCheckError,
  isCodeValidationError,
} from './validation-errors.ts';

describe('validation errors', () => {
  it('carry a code, a name, and a message that names what was wrong', () => {
    const tooLarge = new CodeTooLargeError({ sizeBytes: 200_000, maxBytes: 102_400 });
    expect(tooLarge).toMatchObject({ code: 'CODE_TOO_LARGE', name: 'CodeTooLargeError' });
    expect(tooLarge.message).toBe(
      'code is 200000 bytes (UTF-8), more than the limit of 102400 bytes',
    );

    const secret = new SecretInCodeError({
      findings: [
        { kind: 'github-token', line: 3 },
        { kind: 'slack-token', line: 9 },
      ],
    });
    expect(secret).toMatchObject({ code: 'SECRET_IN_CODE', kind: 'github-token', line: 3 });
    expect(secret.findings).toEqual([
      { kind: 'github-token', line: 3 },
      { kind: 'slack-token', line: 9 },
    ]);
    expect(secret.message).toMatch(/secret \(github-token\) on line 3 \(and 1 more\)/);

    const dangerous = new DangerousPatternError({
      rule: 'python-eval',
      line: 4,
      excerpt: 'eval(x)',
      message: 'eval() runs a string as code',
    });
    expect(dangerous).toMatchObject({ code: 'DANGEROUS_PATTERN', rule: 'python-eval', line: 4 });
    expect(dangerous.message).toBe(
      'code is blocked by rule python-eval on line 4: eval() runs a string as code (eval(x))',
    );

    const syntax = new SyntaxCheckError({
      language: 'python',
      line: 2,
      detail: 'SyntaxError: invalid syntax',
    });
    expect(syntax).toMatchObject({ code: 'SYNTAX_ERROR', language: 'python', line: 2 });
    expect(syntax.message).toBe(
      'python code has a syntax error on line 2: SyntaxError: invalid syntax',
    );
    expect(new SyntaxCheckError({ language: 'bash', line: null, detail: 'x' }).message).toBe(
      'bash code has a syntax error: x',
    );
  });

  it('are told apart from other errors', () => {
    expect(isCodeValidationError(new CodeTooLargeError({ sizeBytes: 2, maxBytes: 1 }))).toBe(true);
    expect(isCodeValidationError(new Error('x'))).toBe(false);
    expect(isCodeValidationError('CODE_TOO_LARGE')).toBe(false);
  });
});
