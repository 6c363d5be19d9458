import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { extractTar } from './extract-tar.ts';
import { ProjectTreeWriter } from './project-tree-writer.ts';
import { storeUpload, type UploadSource } from './store-upload.ts';
import {
  addZeroEntry,
  buildTar,
  buildTarGz,
  patchTarHeader,
  streamTarGz,
  type TarTestEntry,
} from './test-support/build-tar.ts';
import {
  expectRejected,
  makeProjectsRoot,
  removeProjectsRoot,
} from './test-support/expect-rejected.ts';
import { resolveUploadLimits } from './upload-limits.ts';
import { UploadTally } from './upload-tally.ts';

const MB = 1_000_000;
const text = (value: string): Buffer => Buffer.from(value, 'utf8');

async function tar(entries: TarTestEntry[]): Promise<UploadSource> {
  return { kind: 'archive', bytes: await buildTar(entries) };
}

async function tarGz(entries: TarTestEntry[]): Promise<UploadSource> {
  return { kind: 'archive', bytes: await buildTarGz(entries) };
}

describe('tar and tar.gz upload, happy path', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeProjectsRoot();
  });
  afterEach(async () => {
    await removeProjectsRoot(root);
  });

  const binary = randomBytes(100_000);
  const longName = `deep/${'n'.repeat(90)}/${'f'.repeat(90)}.txt`;
  const entries: TarTestEntry[] = [
    { name: './', type: 'directory' },
    { name: './src/', type: 'directory' },
    { name: './src/index.ts', data: text('console.log(1);\n'), mode: 0o4755 },
    { name: 'src/lib/deep/util.ts', data: text('export const x = 1;\n') },
    { name: 'assets/blob.bin', data: binary, mtime: new Date(0) },
    { name: 'docs/empty', type: 'directory' },
    { name: 'empty.txt' },
    { name: 'cafe\u0301.txt', data: text('é') },
    { name: 'old-style.txt', data: text('contiguous'), type: 'contiguous-file' },
    { name: longName, data: text('long') },
  ];
  const expectedFiles = [
    { path: 'assets/blob.bin', size: 100_000 },
    { path: 'caf\u00e9.txt', size: 2 },
    { path: longName, size: 4 },
    { path: 'empty.txt', size: 0 },
    { path: 'old-style.txt', size: 10 },
    { path: 'src/index.ts', size: 16 },
    { path: 'src/lib/deep/util.ts', size: 20 },
  ];

  async function expectProject(dir: string): Promise<void> {
    expect(await readFile(join(dir, 'assets/blob.bin'))).toEqual(binary);
    expect(await readFile(join(dir, 'src/index.ts'), 'utf8')).toBe('console.log(1);\n');
    expect(await readFile(join(dir, 'src/lib/deep/util.ts'), 'utf8')).toBe('export const x = 1;\n');
    expect(await readFile(join(dir, 'caf\u00e9.txt'), 'utf8')).toBe('é');
    expect(await readFile(join(dir, longName), 'utf8')).toBe('long');
    expect(await readdir(join(dir, 'docs/empty'))).toEqual([]);
    const index = await stat(join(dir, 'src/index.ts'));
    expect(index.mode & 0o7777).toBe(0o644);
    // The archive's mtime (1970) is not trusted.
    expect((await stat(join(dir, 'assets/blob.bin'))).mtimeMs).toBeGreaterThan(
      Date.now() - 3600_000,
    );
  }

  it('extracts a tar', async () => {
    const result = await storeUpload({
      source: await tar(entries),
      projectsRoot: root,
      projectId: 'p1',
    });
    expect(result.format).toBe('tar');
    expect(result.files).toEqual(expectedFiles);
    expect(result.totalBytes).toBe(100_052);
    await expectProject(result.dir);
    expect(await readdir(root)).toEqual(['p1']);
  });

  it('extracts a tar.gz', async () => {
    const result = await storeUpload({
      source: await tarGz(entries),
      projectsRoot: root,
      projectId: 'p2',
    });
    expect(result.format).toBe('tar.gz');
    expect(result.files).toEqual(expectedFiles);
    await expectProject(result.dir);
  });

  it('takes names from pax headers (tar-stream applies them to the next entry)', async () => {
    const result = await storeUpload({
      source: await tar([
        { name: 'header-name.txt', data: text('x'), pax: { path: 'pax-name.txt' } },
      ]),
      projectsRoot: root,
      projectId: 'p3',
    });
    expect(result.files).toEqual([{ path: 'pax-name.txt', size: 1 }]);
  });
});

describe('tar upload, refused', () => {
  it('".." components, absolute paths, drive letters and backslashes', async () => {
    await expectRejected(await tar([{ name: '../x', data: text('x') }]), {
      rule: 'path-traversal',
      entry: '../x',
    });
    await expectRejected(await tarGz([{ name: '/etc/x', data: text('x') }]), {
      rule: 'absolute-path',
      entry: '/etc/x',
    });
    await expectRejected(await tar([{ name: 'C:\\x', data: text('x') }]), {
      rule: 'drive-letter',
      entry: 'C:\\\\x',
    });
    await expectRejected(await tar([{ name: 'a\\b', data: text('x') }]), {
      rule: 'backslash',
      entry: 'a\\\\b',
    });
  });

  it('a traversal smuggled in through a pax path record', async () => {
    await expectRejected(
      await tar([{ name: 'innocent.txt', data: text('x'), pax: { path: '../../evil' } }]),
      { rule: 'path-traversal', entry: '../../evil' },
    );
  });

  // Links are kept, copied or left out (upload-links.test.ts); none of them refuses an upload.
  it('devices and FIFOs', async () => {
    await expectRejected(
      await tar([{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }]),
      { rule: 'device', entry: 'null' },
    );
    await expectRejected(
      await tar([{ name: 'sda', type: 'block-device', devmajor: 8, devminor: 0 }]),
      { rule: 'device', entry: 'sda' },
    );
    await expectRejected(await tar([{ name: 'pipe', type: 'fifo' }]), {
      rule: 'fifo',
      entry: 'pipe',
    });
  });

  it('entry types tar-stream does not know (a GNU sparse file)', async () => {
    const plain = await buildTar([{ name: 'sparse.bin', data: text('x') }]);
    const sparse = patchTarHeader(plain, 0, (header) => {
      header[156] = 'S'.charCodeAt(0);
    });
    await expectRejected(
      { kind: 'archive', bytes: sparse },
      { rule: 'unsupported-entry', entry: 'sparse.bin' },
    );
  });

  it('NFC/NFD, case and file/directory collisions', async () => {
    await expectRejected(
      await tar([
        { name: 'caf\u00e9', data: text('nfc') },
        { name: 'cafe\u0301', data: text('nfd') },
      ]),
      { rule: 'name-collision', entry: 'cafe\u0301' },
    );
    await expectRejected(
      await tar([
        { name: 'README', data: text('a') },
        { name: 'readme', data: text('b') },
      ]),
      { rule: 'name-collision', entry: 'readme' },
    );
    await expectRejected(
      await tar([
        { name: 'a', data: text('file') },
        { name: 'a/b', data: text('below a file') },
      ]),
      { rule: 'name-collision', entry: 'a/b' },
    );
  });

  it('control characters in names', async () => {
    await expectRejected(await tar([{ name: 'bad\nname.txt', data: text('x') }]), {
      rule: 'control-character',
      entry: 'bad\\nname.txt',
    });
  });

  it('too many files, a file too large, a total too large', async () => {
    const four = ['a', 'b', 'c', 'd'].map((name) => ({ name, data: text(name) }));
    await expectRejected(await tar(four), {
      rule: 'too-many-files',
      entry: 'd',
      limits: { maxFiles: 3 },
      limit: 3,
    });
    await expectRejected(await tar([{ name: 'big.bin', data: randomBytes(1001) }]), {
      rule: 'file-too-large',
      entry: 'big.bin',
      limits: { maxFileBytes: 1000 },
    });
    await expectRejected(
      await tarGz([
        { name: 'one.bin', data: randomBytes(1000) },
        { name: 'two.bin', data: randomBytes(1000) },
      ]),
      { rule: 'total-too-large', entry: 'two.bin', limits: { maxTotalBytes: 1500 } },
    );
  });

  describe('gzip bombs', () => {
    it('a header declaring 100 MB is refused before its data is inflated', async () => {
      const bytes = await streamTarGz((pack) => addZeroEntry(pack, 'bomb.bin', 100 * MB));
      await expectRejected(
        { kind: 'archive', bytes },
        { rule: 'file-too-large', entry: 'bomb.bin' },
      );
    });

    it('with the size limits raised, inflating is stopped at the ratio limit', async () => {
      const bytes = await streamTarGz((pack) => addZeroEntry(pack, 'bomb.bin', 100 * MB));
      const started = performance.now();
      const error = await expectRejected(
        { kind: 'archive', bytes },
        {
          rule: 'compression-ratio',
          entry: 'bomb.bin',
          limits: { maxFileBytes: 1e9, maxTotalBytes: 1e9 },
          limit: 100,
        },
      );
      // Stopped once the output passed 100 times the upload (about 10 MB), not at 100 MB.
      expect(error.actual).toBeLessThan(200);
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    it('100 MB of zero blocks after a small valid entry is stopped while inflating', async () => {
      const bytes = await streamTarGz(
        async (pack) => {
          pack.entry({ name: 'small.txt' }, text('hi'));
        },
        { trailingZeros: 100 * MB },
      );
      await expectRejected({ kind: 'archive', bytes }, { rule: 'compression-ratio', entry: null });
    });
  });

  it('corrupt archives: bad header checksum, truncated tar, truncated gzip', async () => {
    const good = await buildTar([{ name: 'a.txt', data: randomBytes(2000) }]);
    const badChecksum = Buffer.from(good);
    badChecksum[0] = 'b'.charCodeAt(0);
    await expectRejected(
      { kind: 'archive', bytes: badChecksum },
      { rule: 'corrupt-archive', entry: null },
    );
    await expectRejected(
      { kind: 'archive', bytes: good.subarray(0, 1024) },
      { rule: 'corrupt-archive', entry: 'a.txt' },
    );
    const gz = await buildTarGz([{ name: 'big.bin', data: randomBytes(200_000) }]);
    await expectRejected(
      { kind: 'archive', bytes: gz.subarray(0, gz.length >> 1) },
      { rule: 'corrupt-archive', entry: 'big.bin' },
    );
  });

  it('gzip data that is not a tar, and an empty tar', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), randomBytes(4000)]);
    await expectRejected(
      { kind: 'archive', bytes: gzipSync(png) },
      { rule: 'unsupported-format', entry: null },
    );
    await expectRejected(
      { kind: 'archive', bytes: gzipSync(text('short')) },
      { rule: 'unsupported-format', entry: null },
    );
    await expectRejected(
      { kind: 'archive', bytes: await buildTar([]) },
      { rule: 'empty', entry: null },
    );
    await expectRejected(
      { kind: 'archive', bytes: gzipSync(Buffer.alloc(0)) },
      { rule: 'empty', entry: null },
    );
    await expectRejected(await tar([{ name: 'only-a-dir', type: 'directory' }]), {
      rule: 'empty',
      entry: null,
    });
  });
});

describe('extractTar error sources', () => {
  it('passes a write failure (disk full) through instead of calling the archive corrupt', async () => {
    class FailingWriter extends ProjectTreeWriter {
      override async file(): Promise<number> {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      }
    }
    for (const gzip of [false, true]) {
      const entries = [{ name: 'a.txt', data: randomBytes(5000) }];
      const bytes = gzip ? await buildTarGz(entries) : await buildTar(entries);
      const target = {
        tally: new UploadTally(resolveUploadLimits()),
        writer: new FailingWriter('/nonexistent'),
      };
      await expect(extractTar(bytes, { gzip }, target)).rejects.toMatchObject({ code: 'ENOSPC' });
    }
  });
});
