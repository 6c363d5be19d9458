import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { extractZip } from './extract-zip.ts';
import { ProjectTreeWriter } from './project-tree-writer.ts';
import { storeUpload, type UploadSource } from './store-upload.ts';
import { buildZip, deflatedZeros, emptyZip, type ZipTestEntry } from './test-support/build-zip.ts';
import {
  expectRejected,
  makeProjectsRoot,
  removeProjectsRoot,
} from './test-support/expect-rejected.ts';
import { resolveUploadLimits } from './upload-limits.ts';
import { UploadTally } from './upload-tally.ts';

const MB = 1_000_000;

function zip(entries: ZipTestEntry[]): UploadSource {
  return { kind: 'archive', bytes: buildZip(entries) };
}

const text = (value: string): Buffer => Buffer.from(value, 'utf8');

describe('zip upload, happy path', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeProjectsRoot();
  });
  afterEach(async () => {
    await removeProjectsRoot(root);
  });

  it('extracts stored and deflated files in nested folders, byte for byte', async () => {
    const binary = randomBytes(70_000);
    const util = text('export const x = 1;\n'.repeat(200));
    const result = await storeUpload({
      source: zip([
        { name: './' },
        { name: 'src/' },
        { name: 'src/index.ts', data: text('console.log(1);\n'), method: 'store' },
        { name: 'src/lib/util.ts', data: util },
        { name: 'assets/blob.bin', data: binary },
        { name: 'docs/empty/' },
        { name: 'README.md', data: text('# hi\n') },
        { name: 'empty.txt' },
        { name: 'cafe\u0301.txt', data: text('é') },
        { name: 'mode.sh', data: text('#!/bin/sh\n'), unixMode: 0o104755 },
      ]),
      projectsRoot: root,
      projectId: 'p1',
    });
    expect(result.dir).toBe(join(root, 'p1'));
    expect(result.format).toBe('zip');
    expect(result.files).toEqual([
      { path: 'README.md', size: 5 },
      { path: 'assets/blob.bin', size: 70_000 },
      { path: 'caf\u00e9.txt', size: 2 },
      { path: 'empty.txt', size: 0 },
      { path: 'mode.sh', size: 10 },
      { path: 'src/index.ts', size: 16 },
      { path: 'src/lib/util.ts', size: util.length },
    ]);
    expect(result.totalBytes).toBe(5 + 70_000 + 2 + 0 + 10 + 16 + util.length);
    expect(await readFile(join(root, 'p1/assets/blob.bin'))).toEqual(binary);
    expect(await readFile(join(root, 'p1/src/lib/util.ts'))).toEqual(util);
    expect(await readFile(join(root, 'p1/src/index.ts'), 'utf8')).toBe('console.log(1);\n');
    expect(await readFile(join(root, 'p1/caf\u00e9.txt'), 'utf8')).toBe('é');
    expect(await readdir(join(root, 'p1/docs/empty'))).toEqual([]);
    // setuid and execute bits from the archive are not kept.
    expect((await stat(join(root, 'p1/mode.sh'))).mode & 0o7777).toBe(0o644);
    expect(await readdir(root)).toEqual(['p1']);
  });
});

describe('zip upload, refused', () => {
  it('".." components', async () => {
    await expectRejected(zip([{ name: '../x', data: text('x') }]), {
      rule: 'path-traversal',
      entry: '../x',
    });
    await expectRejected(zip([{ name: 'a/../../etc/passwd', data: text('x') }]), {
      rule: 'path-traversal',
      entry: 'a/../../etc/passwd',
    });
  });

  it('absolute paths', async () => {
    await expectRejected(zip([{ name: '/etc/x', data: text('x') }]), {
      rule: 'absolute-path',
      entry: '/etc/x',
    });
  });

  it('drive letters and backslashes (kept as written, not turned into /)', async () => {
    await expectRejected(zip([{ name: 'C:\\x', data: text('x') }]), {
      rule: 'drive-letter',
      entry: 'C:\\\\x',
    });
    await expectRejected(zip([{ name: 'a\\b', data: text('x') }]), {
      rule: 'backslash',
      entry: 'a\\\\b',
    });
  });

  it('device, FIFO and socket entries', async () => {
    await expectRejected(zip([{ name: 'tty', unixMode: 0o020644 }]), {
      rule: 'device',
      entry: 'tty',
    });
    await expectRejected(zip([{ name: 'disk', unixMode: 0o060644 }]), {
      rule: 'device',
      entry: 'disk',
    });
    await expectRejected(zip([{ name: 'pipe', unixMode: 0o010644 }]), {
      rule: 'fifo',
      entry: 'pipe',
    });
    await expectRejected(zip([{ name: 'sock', unixMode: 0o140644 }]), {
      rule: 'unsupported-entry',
      entry: 'sock',
    });
  });

  it('encrypted entries and unsupported compression methods', async () => {
    await expectRejected(zip([{ name: 'secret.txt', data: text('x'), flags: 0x1 }]), {
      rule: 'encrypted',
      entry: 'secret.txt',
    });
    await expectRejected(zip([{ name: 'strong.txt', data: text('x'), flags: 0x41 }]), {
      rule: 'encrypted',
      entry: null,
    });
    await expectRejected(
      zip([{ name: 'a.bz2', data: text('x'), method: 12, compressed: text('x') }]),
      { rule: 'unsupported-compression', entry: 'a.bz2' },
    );
  });

  it('names that collide after NFC normalisation or case folding, and file/directory clashes', async () => {
    await expectRejected(
      zip([
        { name: 'caf\u00e9', data: text('nfc') },
        { name: 'cafe\u0301', data: text('nfd') },
      ]),
      { rule: 'name-collision', entry: 'cafe\u0301' },
    );
    await expectRejected(
      zip([
        { name: 'README', data: text('a') },
        { name: 'readme', data: text('b') },
      ]),
      { rule: 'name-collision', entry: 'readme' },
    );
    await expectRejected(
      zip([
        { name: 'a', data: text('file') },
        { name: 'a/b', data: text('below a file') },
      ]),
      { rule: 'name-collision', entry: 'a/b' },
    );
    await expectRejected(
      zip([
        { name: 'dup.txt', data: text('1') },
        { name: 'dup.txt', data: text('2') },
      ]),
      { rule: 'name-collision', entry: 'dup.txt' },
    );
  });

  it('control characters and NUL in names, printed escaped', async () => {
    await expectRejected(zip([{ name: 'evil\u001b[31m.txt', data: text('x') }]), {
      rule: 'control-character',
      entry: 'evil\\x1b[31m.txt',
    });
    await expectRejected(zip([{ name: Buffer.from('a\0b.txt', 'latin1'), data: text('x') }]), {
      rule: 'control-character',
      entry: 'a\\x00b.txt',
    });
  });

  it('too many files, counted per entry and from the central directory', async () => {
    const four = ['a', 'b', 'c', 'd'].map((name) => ({ name, data: text(name) }));
    await expectRejected(zip(four), {
      rule: 'too-many-files',
      entry: 'd',
      limits: { maxFiles: 3 },
      limit: 3,
    });
    await expectRejected(zip(four), {
      rule: 'too-many-files',
      entry: null,
      limits: { maxFiles: 2, maxDirectories: 1 },
    });
  });

  it('a file over maxFileBytes and a total over maxTotalBytes', async () => {
    await expectRejected(zip([{ name: 'big.bin', data: randomBytes(1001) }]), {
      rule: 'file-too-large',
      entry: 'big.bin',
      limits: { maxFileBytes: 1000 },
      limit: 1000,
    });
    await expectRejected(
      zip([
        { name: 'one.bin', data: randomBytes(1000) },
        { name: 'two.bin', data: randomBytes(1000) },
      ]),
      { rule: 'total-too-large', entry: 'two.bin', limits: { maxTotalBytes: 1500 }, limit: 1500 },
    );
  });

  describe('zip bombs', () => {
    let bomb: { compressed: Buffer; crc: number };
    beforeAll(async () => {
      bomb = await deflatedZeros(100 * MB);
    });

    const bombEntry = (declaredSize: number): ZipTestEntry => ({
      name: 'bomb.bin',
      method: 'deflate',
      compressed: bomb.compressed,
      crc: bomb.crc,
      declaredSize,
    });

    it('an honest 100 MB entry of zeros is over the file limit', async () => {
      await expectRejected(zip([bombEntry(100 * MB)]), {
        rule: 'file-too-large',
        entry: 'bomb.bin',
      });
    });

    it('with the size limits raised, its ratio is refused before inflating', async () => {
      const error = await expectRejected(zip([bombEntry(100 * MB)]), {
        rule: 'compression-ratio',
        entry: 'bomb.bin',
        limits: { maxFileBytes: 1e9, maxTotalBytes: 1e9 },
        limit: 100,
      });
      expect(error.actual).toBeGreaterThan(900);
    });

    it('a header that lies (declares 1,000 bytes) is caught right after 1,000 bytes', async () => {
      const started = performance.now();
      const error = await expectRejected(zip([bombEntry(1000)]), {
        rule: 'corrupt-archive',
        entry: 'bomb.bin',
      });
      expect(error.detail).toContain('declares');
      expect(error.limit).toBe(1000);
      // Stopped at the first inflated chunk over the declared size, not after 100 MB.
      expect(error.actual).toBeLessThan(1024 * 1024);
      expect(performance.now() - started).toBeLessThan(5_000);
    });

    it('many small entries that are each under the threshold trip the overall ratio', async () => {
      const zeros = Buffer.alloc(512 * 1024);
      const entries = Array.from({ length: 30 }, (_, i) => ({ name: `z/${i}.bin`, data: zeros }));
      const error = await expectRejected(zip(entries), {
        rule: 'compression-ratio',
        entry: 'z/3.bin',
        limit: 100,
      });
      expect(error.detail).toContain('the archive');
    });
  });

  it('corrupt archives: garbage after the signature, bad CRC, truncated data, wrong size', async () => {
    const garbage = Buffer.concat([Buffer.from('504b0304', 'hex'), randomBytes(2000)]);
    await expectRejected(
      { kind: 'archive', bytes: garbage },
      { rule: 'corrupt-archive', entry: null },
    );
    await expectRejected(zip([{ name: 'a.txt', data: text('hello'), crc: 0x12345678 }]), {
      rule: 'corrupt-archive',
      entry: 'a.txt',
    });
    const data = randomBytes(50_000);
    const cut = deflateRawSync(data).subarray(0, 20_000);
    await expectRejected(zip([{ name: 'cut.bin', data, compressed: cut }]), {
      rule: 'corrupt-archive',
      entry: 'cut.bin',
    });
    await expectRejected(
      zip([{ name: 'short.txt', data: text('abc'), method: 'store', declaredSize: 10 }]),
      { rule: 'corrupt-archive', entry: 'short.txt' },
    );
    const whole = buildZip([{ name: 'a.txt', data: text('hello') }]);
    await expectRejected(
      { kind: 'archive', bytes: whole.subarray(0, whole.length - 10) },
      { rule: 'corrupt-archive', entry: null },
    );
  });

  it('an empty zip, and a zip of directories only', async () => {
    await expectRejected({ kind: 'archive', bytes: emptyZip() }, { rule: 'empty', entry: null });
    await expectRejected(zip([{ name: 'a/' }, { name: 'a/b/' }]), { rule: 'empty', entry: null });
  });
});

describe('extractZip error sources', () => {
  it('passes a write failure (disk full) through instead of calling the archive corrupt', async () => {
    class FailingWriter extends ProjectTreeWriter {
      override async file(): Promise<number> {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      }
    }
    const target = {
      tally: new UploadTally(resolveUploadLimits()),
      writer: new FailingWriter('/nonexistent'),
    };
    const bytes = buildZip([{ name: 'a.txt', data: randomBytes(5000) }]);
    await expect(extractZip(bytes, target)).rejects.toMatchObject({ code: 'ENOSPC' });
  });
});
