import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CODE_BYTES, checkCodeSize, codeSizeBytes } from './code-size.ts';
import { CodeTooLargeError } from './validation-errors.ts';

describe('checkCodeSize', () => {
  it('defaults to 100 KB', () => {
    expect(DEFAULT_MAX_CODE_BYTES).toBe(102_400);
  });

  it('accepts code of exactly the limit and returns its size', () => {
    expect(checkCodeSize('x'.repeat(DEFAULT_MAX_CODE_BYTES))).toBe(DEFAULT_MAX_CODE_BYTES);
  });

  it('refuses one byte over the limit, naming the size and the limit', () => {
    const error = (() => {
      try {
        checkCodeSize('x'.repeat(DEFAULT_MAX_CODE_BYTES + 1));
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(CodeTooLargeError);
    expect(error).toMatchObject({ code: 'CODE_TOO_LARGE', sizeBytes: 102_401, maxBytes: 102_400 });
    expect((error as CodeTooLargeError).message).toContain('102401 bytes');
    expect((error as CodeTooLargeError).message).toContain('limit of 102400 bytes');
  });

  it('counts UTF-8 bytes, not string length', () => {
    expect(codeSizeBytes('é€😀')).toBe(2 + 3 + 4);
    // 4 characters, but 10 bytes: over a limit of 8.
    expect(() => checkCodeSize('é€😀a', 8)).toThrow(CodeTooLargeError);
    expect(checkCodeSize('é€😀a', 10)).toBe(10);
  });

  it('accepts empty code', () => {
    expect(checkCodeSize('')).toBe(0);
  });
});
