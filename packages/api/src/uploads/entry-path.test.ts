import { describe, expect, it } from 'vitest';
import { normalizeEntryPath } from './entry-path.ts';
import { UploadRejectedError, type UploadRejectionRule } from './upload-errors.ts';
import { DEFAULT_UPLOAD_LIMITS } from './upload-limits.ts';

const limits = DEFAULT_UPLOAD_LIMITS;

function rejection(raw: string, custom = limits): UploadRejectedError {
  try {
    normalizeEntryPath(raw, custom);
  } catch (error) {
    if (error instanceof UploadRejectedError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

function ruleOf(raw: string): UploadRejectionRule {
  return rejection(raw).rule;
}

describe('normalizeEntryPath accepts', () => {
  it('plain relative paths, with and without a trailing slash', () => {
    expect(normalizeEntryPath('src/index.ts', limits)).toEqual({
      path: 'src/index.ts',
      components: ['src', 'index.ts'],
      trailingSlash: false,
    });
    expect(normalizeEntryPath('src/lib/', limits)).toEqual({
      path: 'src/lib',
      components: ['src', 'lib'],
      trailingSlash: true,
    });
  });

  it('strips leading "./" and treats "." and "./" as the root', () => {
    expect(normalizeEntryPath('./src/a.ts', limits)?.path).toBe('src/a.ts');
    expect(normalizeEntryPath('././a', limits)?.path).toBe('a');
    expect(normalizeEntryPath('./', limits)).toBeNull();
    expect(normalizeEntryPath('.', limits)).toBeNull();
  });

  it('normalises to NFC', () => {
    const nfd = 'cafe\u0301.txt';
    expect(normalizeEntryPath(nfd, limits)?.path).toBe('caf\u00e9.txt');
  });

  it('names with dots, spaces, colons in the middle and unicode', () => {
    for (const name of ['.env', '..hidden', 'a..b', 'my file.txt', 'ab:c', 'データ/ファイル.txt']) {
      expect(normalizeEntryPath(name, limits)?.path).toBe(name);
    }
  });
});

describe('normalizeEntryPath rejects', () => {
  it('".." components as path-traversal, with the entry and rule in the message', () => {
    const error = rejection('../../etc/passwd');
    expect(error.rule).toBe('path-traversal');
    expect(error.entry).toBe('../../etc/passwd');
    expect(error.message).toBe(
      'entry "../../etc/passwd": path traversal (.. components are not allowed)',
    );
    expect(ruleOf('a/../../x')).toBe('path-traversal');
    expect(ruleOf('a/..')).toBe('path-traversal');
    expect(ruleOf('./../x')).toBe('path-traversal');
    expect(ruleOf('..\\..\\x')).toBe('path-traversal');
  });

  it('absolute paths', () => {
    expect(ruleOf('/etc/x')).toBe('absolute-path');
    expect(ruleOf('//server/share')).toBe('absolute-path');
    expect(ruleOf('\\\\server\\share\\x')).toBe('absolute-path');
  });

  it('Windows drive letters', () => {
    expect(ruleOf('C:\\x')).toBe('drive-letter');
    expect(ruleOf('c:/x')).toBe('drive-letter');
    expect(ruleOf('D:')).toBe('drive-letter');
    expect(ruleOf('./C:/x')).toBe('drive-letter');
  });

  it('backslashes', () => {
    const error = rejection('a\\b');
    expect(error.rule).toBe('backslash');
    expect(error.entry).toBe('a\\\\b');
  });

  it('control characters, DEL, C1 controls and NUL', () => {
    expect(ruleOf('a\nb')).toBe('control-character');
    expect(ruleOf('a\u007fb')).toBe('control-character');
    expect(ruleOf('a\u0085b')).toBe('control-character');
    const nul = rejection('a.txt\0.png');
    expect(nul.rule).toBe('control-character');
    expect(nul.detail).toContain('NUL');
    expect(nul.entry).toBe('a.txt\\x00.png');
  });

  it('lone surrogates', () => {
    expect(ruleOf('a\ud800b')).toBe('invalid-encoding');
  });

  it('empty names, empty components and "." components', () => {
    expect(ruleOf('')).toBe('invalid-component');
    expect(ruleOf('a//b')).toBe('invalid-component');
    expect(ruleOf('a/./b')).toBe('invalid-component');
    expect(ruleOf('a/.')).toBe('invalid-component');
    expect(ruleOf('a//')).toBe('invalid-component');
    expect(ruleOf('.//a')).toBe('invalid-component');
  });

  it('paths deeper than maxPathDepth', () => {
    const ok = Array.from({ length: 16 }, (_, i) => `d${i}`).join('/');
    expect(normalizeEntryPath(ok, limits)?.components).toHaveLength(16);
    const error = rejection(`${ok}/x`);
    expect(error).toMatchObject({ rule: 'path-too-deep', limit: 16, actual: 17 });
  });

  it('components over maxComponentBytes and paths over maxPathBytes, in UTF-8 bytes', () => {
    expect(normalizeEntryPath('x'.repeat(100), limits)?.path).toHaveLength(100);
    expect(rejection('x'.repeat(101))).toMatchObject({ rule: 'path-too-long', limit: 100 });
    // 51 two-byte letters: 51 characters but 102 bytes.
    expect(rejection('é'.repeat(51))).toMatchObject({ rule: 'path-too-long', actual: 102 });
    const long = Array.from({ length: 6 }, () => 'y'.repeat(50)).join('/');
    expect(rejection(long)).toMatchObject({ rule: 'path-too-long', limit: 255, actual: 305 });
  });

  it('uses configured limits', () => {
    const tight = { ...limits, maxPathDepth: 2, maxComponentBytes: 3, maxPathBytes: 5 };
    expect(rejection('a/b/c', tight).rule).toBe('path-too-deep');
    expect(rejection('abcd', tight).rule).toBe('path-too-long');
    expect(rejection('abc/de', tight).rule).toBe('path-too-long');
  });
});
