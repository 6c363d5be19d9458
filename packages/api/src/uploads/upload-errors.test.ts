import { describe, expect, it } from 'vitest';
import {
  corruptArchiveError,
  InvalidProjectIdError,
  isUploadRejectedError,
  ProjectExistsError,
  UploadRejectedError,
} from './upload-errors.ts';

describe('UploadRejectedError', () => {
  it('names the entry and the rule in its message', () => {
    const error = new UploadRejectedError({
      rule: 'path-traversal',
      entry: '../../etc/passwd',
      detail: '.. components are not allowed',
    });
    expect(error.message).toBe(
      'entry "../../etc/passwd": path traversal (.. components are not allowed)',
    );
    expect(error).toMatchObject({
      code: 'UPLOAD_REJECTED',
      rule: 'path-traversal',
      entry: '../../etc/passwd',
      limit: null,
      actual: null,
      name: 'UploadRejectedError',
    });
    expect(isUploadRejectedError(error)).toBe(true);
    expect(isUploadRejectedError(new Error('x'))).toBe(false);
  });

  it('keeps the limit and the value that broke it', () => {
    const error = new UploadRejectedError({
      rule: 'file-too-large',
      entry: 'big.bin',
      detail: '11 bytes, the limit is 10 bytes per file',
      limit: 10,
      actual: 11,
    });
    expect(error.limit).toBe(10);
    expect(error.actual).toBe(11);
    expect(error.message).toBe(
      'entry "big.bin": file too large (11 bytes, the limit is 10 bytes per file)',
    );
  });

  it('stores and prints the entry with control characters escaped', () => {
    const error = new UploadRejectedError({
      rule: 'control-character',
      entry: 'evil\n\u001b[2Jname',
      detail: 'x',
    });
    expect(error.entry).toBe('evil\\n\\x1b[2Jname');
    expect(error.message).not.toContain('\n');
    expect(error.message).not.toContain('\u001b');
  });

  it('speaks of the upload when no entry is to blame', () => {
    const error = new UploadRejectedError({
      rule: 'empty',
      detail: 'the upload contains no files',
    });
    expect(error.entry).toBeNull();
    expect(error.message).toBe('upload: empty upload (the upload contains no files)');
  });

  it('wraps a library error as corrupt-archive and passes rejections through', () => {
    const wrapped = corruptArchiveError('a.txt', new Error('invalid header\nsignature'));
    expect(wrapped.rule).toBe('corrupt-archive');
    expect(wrapped.message).toBe('entry "a.txt": corrupt archive (invalid header\\nsignature)');
    const rejection = new UploadRejectedError({ rule: 'symlink', entry: 'l', detail: 'x' });
    expect(corruptArchiveError(null, rejection)).toBe(rejection);
  });
});

describe('project errors', () => {
  it('have codes and name what was wrong', () => {
    expect(new InvalidProjectIdError('../x')).toMatchObject({
      code: 'INVALID_PROJECT_ID',
      projectId: '../x',
    });
    const exists = new ProjectExistsError({ projectId: 'p', dir: '/srv/p' });
    expect(exists.code).toBe('PROJECT_EXISTS');
    expect(exists.message).toContain('/srv/p');
  });
});
