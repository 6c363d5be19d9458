/**
 * Tells an upload's archive format from its first bytes (never from a file name or a declared
 * content type).
 */

export type ArchiveFormat = 'zip' | 'tar' | 'tar.gz';

const TAR_BLOCK = 512;
const USTAR_OFFSET = 257;

function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + prefix.length) return false;
  return prefix.every((byte, index) => bytes[offset + index] === byte);
}

const ZIP_LOCAL_FILE = [0x50, 0x4b, 0x03, 0x04];
/** An empty zip is only an end-of-central-directory record. */
const ZIP_EMPTY = [0x50, 0x4b, 0x05, 0x06];
const GZIP = [0x1f, 0x8b];
const USTAR = [0x75, 0x73, 0x74, 0x61, 0x72]; // "ustar", then NUL (POSIX) or space (GNU)

/**
 * True when the block is a POSIX or GNU tar header ("ustar" at offset 257) or an end-of-archive
 * block of zeros.
 */
export function isTarBlock(block: Uint8Array): boolean {
  if (block.length < TAR_BLOCK) return false;
  if (startsWith(block, USTAR, USTAR_OFFSET)) {
    const next = block[USTAR_OFFSET + USTAR.length];
    return next === 0x00 || next === 0x20;
  }
  return block.subarray(0, TAR_BLOCK).every((byte) => byte === 0);
}

/**
 * 'zip' (a local file header or an empty zip), 'tar.gz' (gzip; whether it holds a tar is checked
 * while inflating), 'tar' ("ustar" at 257, or an empty tar of zero blocks), or null.
 */
export function detectArchiveFormat(bytes: Uint8Array): ArchiveFormat | null {
  if (startsWith(bytes, ZIP_LOCAL_FILE) || startsWith(bytes, ZIP_EMPTY)) return 'zip';
  if (startsWith(bytes, GZIP)) return 'tar.gz';
  if (bytes.length >= 2 * TAR_BLOCK && bytes.length % TAR_BLOCK === 0 && isTarBlock(bytes)) {
    return 'tar';
  }
  return null;
}

const KNOWN_OTHER_FORMATS: readonly { magic: readonly number[]; name: string }[] = [
  { magic: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], name: 'a PNG image' },
  { magic: [0xff, 0xd8, 0xff], name: 'a JPEG image' },
  { magic: [0x47, 0x49, 0x46, 0x38], name: 'a GIF image' },
  { magic: [0x25, 0x50, 0x44, 0x46, 0x2d], name: 'a PDF document' },
  { magic: [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c], name: 'a 7z archive' },
  { magic: [0x52, 0x61, 0x72, 0x21, 0x1a, 0x07], name: 'a RAR archive' },
  { magic: [0x42, 0x5a, 0x68], name: 'a bzip2 file' },
  { magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], name: 'an xz file' },
  { magic: [0x28, 0xb5, 0x2f, 0xfd], name: 'a zstd file' },
  { magic: [0x50, 0x4b, 0x07, 0x08], name: 'a split zip archive' },
  { magic: [0x7f, 0x45, 0x4c, 0x46], name: 'an ELF executable' },
];

/** A short description of a recognised non-archive format ("a PNG image"), for messages. */
export function describeUnsupportedFormat(bytes: Uint8Array): string | null {
  for (const known of KNOWN_OTHER_FORMATS) {
    if (startsWith(bytes, known.magic)) return known.name;
  }
  return null;
}
