import { describe, expect, it } from 'vitest';
import { validateSnippet } from './validate-snippet.ts';
import { CodeTooLargeError, SecretInCodeError } from './validation-errors.ts';

const TOKEN = `ghp_${'a1B2c3D4e5'.repeat(3)}123456`;

describe('validation of a snippet with several files', () => {
  it('counts every file toward the size limit', () => {
    const request = {
      language: 'python' as const,
      code: 'x'.repeat(600),
      files: [{ name: 'b.py', content: 'y'.repeat(600) }],
    };
    expect(() => validateSnippet(request, { maxCodeBytes: 1000 })).toThrow(CodeTooLargeError);
    expect(() => validateSnippet(request, { maxCodeBytes: 1200 })).not.toThrow();
  });

  it('scans every file for secrets and names the file', () => {
    const error = (() => {
      try {
        validateSnippet({
          language: 'python',
          code: 'import b\n',
          files: [{ name: 'lib/b.py', content: `TOKEN = "${TOKEN}"\n` }],
        });
      } catch (caught) {
        return caught;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(SecretInCodeError);
    expect((error as Error).message).toMatch(/^lib\/b\.py: /);
  });

  it("prefixes warnings about another file with the file's name", () => {
    const warnings = validateSnippet({
      language: 'python',
      code: 'print(1)\n',
      files: [{ name: 'tool.py', content: 'import os\nos.system("ls")\n' }],
    });
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.every((warning) => warning.message.startsWith('tool.py: '))).toBe(true);
  });
});
