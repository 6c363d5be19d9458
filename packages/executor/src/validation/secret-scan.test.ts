import { describe, expect, it } from 'vitest';
import { checkSecrets, findSecretsInCode } from './secret-scan.ts';
import { SecretInCodeError } from './validation-errors.ts';

// Built at run time so no scanner mistakes this file for a leak.
const githubToken = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
const awsKeyId = 'AKIA' + 'IOSFODNN7EXAMPLE';
const awsSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY';

const code = [
  'import os', // 1
  '', // 2
  `TOKEN = "${githubToken}"`, // 3
  'def main():', // 4
  `    # old key: ${awsKeyId}`, // 5
  `    aws_secret_access_key = "${awsSecret}"`, // 6
  '    key = """', // 7
  '-----BEGIN RSA PRIVATE KEY-----', // 8
  'MIIEpAIBAAKCAQEA', // 9
  '-----END RSA PRIVATE KEY-----', // 10
  '"""', // 11
].join('\n');

describe('findSecretsInCode', () => {
  it('finds each secret with its kind, 1-based line and column', () => {
    expect(
      findSecretsInCode(code).map(({ kind, line, column }) => ({ kind, line, column })),
    ).toEqual([
      { kind: 'github-token', line: 3, column: 10 },
      { kind: 'aws-access-key-id', line: 5, column: 16 },
      { kind: 'aws-secret-access-key', line: 6, column: 30 },
      { kind: 'private-key', line: 8, column: 1 },
    ]);
  });

  it('finds a secret on the first and on the last line', () => {
    expect(findSecretsInCode(`${awsKeyId}\nx\n${awsKeyId}`).map((f) => f.line)).toEqual([1, 3]);
  });

  it('counts lines of \\r\\n files the same way', () => {
    expect(findSecretsInCode(`a\r\nb\r\n${awsKeyId}\r\n`).map((f) => f.line)).toEqual([3]);
  });

  it('never repeats the secret in its message', () => {
    for (const finding of findSecretsInCode(code)) {
      expect(finding.message).not.toContain(githubToken);
      expect(finding.message).not.toContain(awsSecret);
    }
    expect(findSecretsInCode(code)[0]?.message).toBe('a secret (github-token) on line 3');
  });

  it('finds nothing in clean code', () => {
    expect(findSecretsInCode('token = os.environ["GITHUB_TOKEN"]\nprint("bearer")\n')).toEqual([]);
  });
});

describe('checkSecrets', () => {
  it('rejects by default, naming the first kind and line', () => {
    expect(() => checkSecrets(code)).toThrow(SecretInCodeError);
    try {
      checkSecrets(code);
    } catch (error) {
      expect(error).toMatchObject({ code: 'SECRET_IN_CODE', kind: 'github-token', line: 3 });
      expect((error as SecretInCodeError).findings).toHaveLength(4);
      expect((error as Error).message).toContain('(github-token) on line 3');
      expect((error as Error).message).not.toContain(githubToken);
    }
  });

  it('returns the findings under the warn policy', () => {
    expect(checkSecrets(code, 'warn')).toHaveLength(4);
  });

  it('passes clean code under either policy', () => {
    expect(checkSecrets('print(1)')).toEqual([]);
    expect(checkSecrets('print(1)', 'warn')).toEqual([]);
  });
});
