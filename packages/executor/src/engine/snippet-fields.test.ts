import { describe, expect, it } from 'vitest';
import { snippetRequestSchema } from './run-request.ts';
import { envNameRefusal, filePathRefusal, MAX_ARGS_BYTES } from './snippet-fields.ts';

const snippet = { kind: 'snippet', language: 'python', code: 'print(1)\n' } as const;

/** The first issue of a request the schema refuses: where, and the rule it broke. */
function refusal(request: Record<string, unknown>): { path: string; rule: string } {
  const parsed = snippetRequestSchema.safeParse({ ...snippet, ...request });
  if (parsed.success) throw new Error('accepted');
  const issue = parsed.error.issues[0]!;
  const rule = (issue as { params?: { rule?: string } }).params?.rule ?? issue.code;
  return { path: issue.path.join('.'), rule };
}

describe('snippet fields', () => {
  it('takes arguments, variables, files and an entry', () => {
    const parsed = snippetRequestSchema.parse({
      ...snippet,
      entry: 'app/main.py',
      files: [
        { name: 'app/util.py', content: 'X = 1\n' },
        { name: 'data.txt', content: 'x' },
      ],
      args: ['--flag', 'two words', ''],
      env: { GREETING: 'hi', _x1: '' },
      expectedOutput: '1\n',
    });
    expect(parsed.args).toEqual(['--flag', 'two words', '']);
  });

  it('refuses names runbox sets and loader variables, naming the variable and the rule', () => {
    expect(refusal({ env: { PATH: '/tmp' } })).toEqual({ path: 'env.PATH', rule: 'env-denied' });
    expect(refusal({ env: { ok: '1', LD_PRELOAD: 'x' } })).toEqual({
      path: 'env.LD_PRELOAD',
      rule: 'env-denied-prefix',
    });
    expect(envNameRefusal('NODE_OPTIONS')?.rule).toBe('env-denied-prefix');
    expect(envNameRefusal('PYTHONPATH')?.rule).toBe('env-denied-prefix');
    expect(envNameRefusal('bash_env')?.rule).toBe('env-denied');
    expect(envNameRefusal('IFS')?.message).toContain('IFS');
    expect(envNameRefusal('1ABC')?.rule).toBe('env-name');
    expect(envNameRefusal('A-B')?.rule).toBe('env-name');
    expect(envNameRefusal('TZ')).toBeNull();
    expect(envNameRefusal('API_TOKEN')).toBeNull();
  });

  it('bounds arguments and refuses NUL in them', () => {
    expect(refusal({ args: ['a\0b'] })).toEqual({ path: 'args.0', rule: 'custom' });
    expect(refusal({ args: ['x'.repeat(MAX_ARGS_BYTES + 1)] })).toEqual({
      path: 'args',
      rule: 'args-bytes',
    });
    expect(refusal({ args: Array.from({ length: 101 }, () => 'a') }).rule).toBe('too_big');
  });

  it('checks file names like uploads', () => {
    expect(filePathRefusal('../x')?.rule).toBe('path-traversal');
    expect(filePathRefusal('a/../../x')?.rule).toBe('path-traversal');
    expect(filePathRefusal('/etc/passwd')?.rule).toBe('absolute-path');
    expect(filePathRefusal('a\\b')?.rule).toBe('backslash');
    expect(filePathRefusal('a//b')?.rule).toBe('invalid-component');
    expect(filePathRefusal('./a')?.rule).toBe('invalid-component');
    expect(filePathRefusal('a\nb')?.rule).toBe('control-character');
    expect(filePathRefusal('a/b/c/d/e/f/g/h/i')?.rule).toBe('path-too-deep');
    expect(filePathRefusal('x'.repeat(256))?.rule).toBe('path-too-long');
    expect(filePathRefusal('.runbox/result.json')?.rule).toBe('reserved');
    expect(filePathRefusal('pkg/mod.py')).toBeNull();
    expect(refusal({ files: [{ name: '../up.py', content: '' }] })).toEqual({
      path: 'files.0.name',
      rule: 'path-traversal',
    });
    expect(refusal({ entry: '/abs.py' })).toEqual({ path: 'entry', rule: 'absolute-path' });
  });

  it('refuses a name given twice and a file that is also a directory', () => {
    expect(refusal({ files: [{ name: 'main.py', content: '' }] })).toEqual({
      path: 'files.0.name',
      rule: 'duplicate-name',
    });
    expect(
      refusal({
        files: [
          { name: 'a', content: '' },
          { name: 'a/b.py', content: '' },
        ],
      }),
    ).toEqual({ path: 'files.1.name', rule: 'file-is-directory' });
  });
});
