import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { describeUnsupportedFormat, detectArchiveFormat, isTarBlock } from './detect-format.ts';
import { buildTar } from './test-support/build-tar.ts';
import { buildZip, emptyZip } from './test-support/build-zip.ts';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

describe('detectArchiveFormat', () => {
  it('recognises zip, an empty zip, gzip and tar by their bytes', async () => {
    expect(detectArchiveFormat(buildZip([{ name: 'a', data: Buffer.from('x') }]))).toBe('zip');
    expect(detectArchiveFormat(emptyZip())).toBe('zip');
    const tar = await buildTar([{ name: 'a.txt', data: Buffer.from('x') }]);
    expect(detectArchiveFormat(tar)).toBe('tar');
    expect(detectArchiveFormat(gzipSync(tar))).toBe('tar.gz');
  });

  it('takes an all-zero tar (no entries) as tar', () => {
    expect(detectArchiveFormat(Buffer.alloc(1024))).toBe('tar');
    expect(detectArchiveFormat(Buffer.alloc(10240))).toBe('tar');
  });

  it('does not go by anything but the bytes', () => {
    expect(detectArchiveFormat(Buffer.from('PK this is text named x.zip'))).toBeNull();
    expect(detectArchiveFormat(Buffer.alloc(1000))).toBeNull();
    expect(detectArchiveFormat(Buffer.alloc(0))).toBeNull();
    expect(detectArchiveFormat(PNG)).toBeNull();
    const notUstar = Buffer.alloc(1024, 0x41);
    expect(detectArchiveFormat(notUstar)).toBeNull();
  });

  it('checks a tar header block for ustar at offset 257', () => {
    const block = Buffer.alloc(512);
    block.write('ustar\0', 257, 'latin1');
    expect(isTarBlock(block)).toBe(true);
    block.write('ustar ', 257, 'latin1');
    expect(isTarBlock(block)).toBe(true);
    block.write('ustaX', 257, 'latin1');
    expect(isTarBlock(block)).toBe(false);
    expect(isTarBlock(Buffer.alloc(100))).toBe(false);
  });
});

describe('describeUnsupportedFormat', () => {
  it('names common non-archive formats', () => {
    expect(describeUnsupportedFormat(PNG)).toBe('a PNG image');
    expect(describeUnsupportedFormat(Buffer.from('%PDF-1.7'))).toBe('a PDF document');
    expect(describeUnsupportedFormat(Buffer.from('377abcaf271c', 'hex'))).toBe('a 7z archive');
    expect(describeUnsupportedFormat(Buffer.from('hello'))).toBeNull();
  });
});
