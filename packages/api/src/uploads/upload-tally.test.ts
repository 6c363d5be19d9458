import { describe, expect, it } from 'vitest';
import { normalizeEntryPath } from './entry-path.ts';
import { UploadRejectedError } from './upload-errors.ts';
import { resolveUploadLimits } from './upload-limits.ts';
import { UploadTally } from './upload-tally.ts';

function tally(overrides: Parameters<typeof resolveUploadLimits>[0] = {}): UploadTally {
  return new UploadTally(resolveUploadLimits(overrides));
}

function file(t: UploadTally, raw: string, size: number): void {
  t.admitFile(raw, normalizeEntryPath(raw, t.limits), size);
}

function rejected(action: () => void): UploadRejectedError {
  try {
    action();
  } catch (error) {
    if (error instanceof UploadRejectedError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe('UploadTally', () => {
  it('lists admitted files and sums their sizes', () => {
    const t = tally();
    file(t, './src/a.ts', 3);
    file(t, 'README.md', 5);
    t.admitDirectory('./', null);
    t.admitDirectory('docs/', normalizeEntryPath('docs/', t.limits));
    expect(t.files).toEqual([
      { path: 'src/a.ts', size: 3 },
      { path: 'README.md', size: 5 },
    ]);
    expect(t.totalBytes).toBe(8);
    expect(t.directoryCount).toBe(2);
  });

  it('refuses more than maxFiles files', () => {
    const t = tally({ maxFiles: 2 });
    file(t, 'a', 1);
    file(t, 'b', 1);
    expect(rejected(() => file(t, 'c', 1))).toMatchObject({
      rule: 'too-many-files',
      entry: 'c',
      limit: 2,
      actual: 3,
    });
  });

  it('refuses more than maxDirectories directories, counting implied ones', () => {
    const t = tally({ maxDirectories: 2 });
    file(t, 'a/b/x', 1);
    expect(rejected(() => file(t, 'c/y', 1))).toMatchObject({
      rule: 'too-many-directories',
      entry: 'c/y',
      limit: 2,
    });
  });

  it('refuses a file over maxFileBytes and a total over maxTotalBytes', () => {
    const t = tally({ maxFileBytes: 10, maxTotalBytes: 15 });
    file(t, 'a', 10);
    expect(rejected(() => file(t, 'b', 11))).toMatchObject({
      rule: 'file-too-large',
      entry: 'b',
      limit: 10,
      actual: 11,
    });
    expect(rejected(() => file(t, 'c', 6))).toMatchObject({
      rule: 'total-too-large',
      entry: 'c',
      limit: 15,
      actual: 16,
    });
  });

  it('refuses a file named like the root or with a trailing slash', () => {
    const t = tally();
    expect(rejected(() => file(t, './', 0)).rule).toBe('invalid-component');
    expect(rejected(() => file(t, 'dir/', 0)).rule).toBe('invalid-component');
  });

  it('refuses collisions', () => {
    const t = tally();
    file(t, 'README', 1);
    expect(rejected(() => file(t, 'readme', 1)).rule).toBe('name-collision');
  });
});
