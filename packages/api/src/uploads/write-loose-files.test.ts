import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeUpload, type UploadSource } from './store-upload.ts';
import {
  expectRejected,
  makeProjectsRoot,
  removeProjectsRoot,
} from './test-support/expect-rejected.ts';
import type { LooseFile } from './write-loose-files.ts';

const text = (value: string): Buffer => Buffer.from(value, 'utf8');

function files(list: [string, string][]): UploadSource {
  return {
    kind: 'files',
    files: list.map(([path, content]) => ({ path, content: text(content) })),
  };
}

describe('loose files, happy path', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeProjectsRoot();
  });
  afterEach(async () => {
    await removeProjectsRoot(root);
  });

  it('writes nested folders with the exact bytes', async () => {
    const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    const list: LooseFile[] = [
      { path: 'src/index.ts', content: text('console.log(1);\n') },
      { path: './src/lib/deep/util.ts', content: text('export {};\n') },
      { path: 'data/bin.dat', content: binary },
      { path: 'empty', content: Buffer.alloc(0) },
    ];
    const result = await storeUpload({
      source: { kind: 'files', files: list },
      projectsRoot: root,
      projectId: 'loose',
    });
    expect(result.format).toBe('files');
    expect(result.files).toEqual([
      { path: 'data/bin.dat', size: 7 },
      { path: 'empty', size: 0 },
      { path: 'src/index.ts', size: 16 },
      { path: 'src/lib/deep/util.ts', size: 11 },
    ]);
    expect(result.totalBytes).toBe(34);
    expect(await readFile(join(root, 'loose/data/bin.dat'))).toEqual(binary);
    expect(await readFile(join(root, 'loose/src/lib/deep/util.ts'), 'utf8')).toBe('export {};\n');
    expect(await readdir(root)).toEqual(['loose']);
  });
});

describe('loose files, refused (nothing written, even for a bad last file)', () => {
  const ok: [string, string] = ['ok.txt', 'fine'];

  it('path rules', async () => {
    await expectRejected(files([ok, ['../x', 'x']]), { rule: 'path-traversal', entry: '../x' });
    await expectRejected(files([ok, ['/etc/x', 'x']]), { rule: 'absolute-path', entry: '/etc/x' });
    await expectRejected(files([ok, ['C:\\x', 'x']]), { rule: 'drive-letter', entry: 'C:\\\\x' });
    await expectRejected(files([ok, ['a\\b', 'x']]), { rule: 'backslash', entry: 'a\\\\b' });
    await expectRejected(files([ok, ['a\u0007b', 'x']]), {
      rule: 'control-character',
      entry: 'a\\x07b',
    });
    await expectRejected(files([ok, ['dir/', '']]), { rule: 'invalid-component', entry: 'dir/' });
    await expectRejected(files([ok, ['a/'.repeat(16) + 'x', 'x']]), {
      rule: 'path-too-deep',
      entry: 'a/'.repeat(16) + 'x',
      limit: 16,
    });
    await expectRejected(files([ok, ['n'.repeat(101), 'x']]), {
      rule: 'path-too-long',
      entry: 'n'.repeat(101),
      limit: 100,
    });
  });

  it('collisions', async () => {
    await expectRejected(
      files([
        ['caf\u00e9.txt', '1'],
        ['cafe\u0301.txt', '2'],
      ]),
      { rule: 'name-collision', entry: 'cafe\u0301.txt' },
    );
    await expectRejected(
      files([
        ['README', '1'],
        ['readme', '2'],
      ]),
      { rule: 'name-collision', entry: 'readme' },
    );
    await expectRejected(
      files([
        ['a', '1'],
        ['a/b', '2'],
      ]),
      { rule: 'name-collision', entry: 'a/b' },
    );
  });

  it('limits', async () => {
    await expectRejected(
      files([
        ['a', '1'],
        ['b', '2'],
        ['c', '3'],
      ]),
      { rule: 'too-many-files', entry: 'c', limits: { maxFiles: 2 }, limit: 2 },
    );
    await expectRejected(files([ok, ['big', 'x'.repeat(11)]]), {
      rule: 'file-too-large',
      entry: 'big',
      limits: { maxFileBytes: 10 },
      limit: 10,
    });
    await expectRejected(files([ok, ['more', 'x'.repeat(8)]]), {
      rule: 'total-too-large',
      entry: 'more',
      limits: { maxTotalBytes: 10 },
      limit: 10,
    });
  });

  it('an empty list', async () => {
    await expectRejected({ kind: 'files', files: [] }, { rule: 'empty', entry: null });
  });
});
