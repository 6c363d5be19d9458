import type { Readable } from 'node:stream';
import { crc32, createInflateRaw, type InflateRaw } from 'node:zlib';
import { MAX_LINK_TARGET_BYTES } from '@runbox/executor';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { normalizeEntryPath } from './entry-path.ts';
import { corruptArchiveError, UploadRejectedError } from './upload-errors.ts';
import type { UploadLimits } from './upload-limits.ts';
import type { UploadTarget } from './upload-target.ts';

/**
 * Extracts a zip upload with yauzl. Two passes: the central directory is read and every entry
 * is checked (names, types, encryption, method, declared sizes, ratios, collisions) before a
 * single byte is written; then each file is inflated with a counter that stops at the declared
 * size, so a header that lies about its size is caught after at most one byte too many. A
 * symbolic link (its target is its data, read in the first pass, at most MAX_LINK_TARGET_BYTES)
 * is kept as a link when the target stays inside the project, and left out with a warning
 * otherwise (upload-tally.ts). Zip has no hard links.
 */

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;

const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

interface Plan {
  /** Normalised paths of the directory entries, created even when empty. */
  directories: string[];
  files: PlannedFile[];
  /** Links kept, made after the files. */
  links: { path: string; target: string }[];
}

interface PlannedFile {
  entry: Entry;
  /** The entry's name as decoded from the archive. */
  name: string;
  /** The normalised path it is written to. */
  path: string;
  /** Declared uncompressed size, verified while writing. */
  size: number;
}

export async function extractZip(bytes: Buffer, target: UploadTarget): Promise<void> {
  const limits = target.tally.limits;
  let zipfile: ZipFile;
  try {
    // decodeStrings: false turns off yauzl's own name checks (which end in a plain Error) and
    // its backslash-to-slash rewriting; names are decoded below and checked by
    // normalizeEntryPath, with a rule for each problem. validateEntrySizes: false because
    // verifiedContent counts the bytes itself and stops with a clear error.
    zipfile = await yauzl.fromBufferPromise(bytes, {
      lazyEntries: true,
      decodeStrings: false,
      validateEntrySizes: false,
      strictFileNames: true,
    });
  } catch (error) {
    throw corruptArchiveError(null, error);
  }
  try {
    const maxEntries = limits.maxFiles + limits.maxDirectories;
    if (zipfile.entryCount > maxEntries) {
      throw new UploadRejectedError({
        rule: 'too-many-files',
        detail:
          `the archive lists ${zipfile.entryCount} entries; at most ${limits.maxFiles} files ` +
          `and ${limits.maxDirectories} directories are allowed`,
        limit: limits.maxFiles,
        actual: zipfile.entryCount,
      });
    }
    const plan = await planEntries(zipfile, bytes.length, target);
    for (const directory of plan.directories) await target.writer.directory(directory);
    for (const link of plan.links) await target.writer.symlink(link.path, link.target);
    for (const file of plan.files) {
      let raw: Readable;
      try {
        raw = await zipfile.openReadStreamPromise(file.entry, { decodeFileData: false });
      } catch (error) {
        throw corruptArchiveError(file.name, error);
      }
      await target.writer.file(file.path, verifiedContent(raw, file));
    }
  } finally {
    zipfile.close();
  }
}

async function planEntries(
  zipfile: ZipFile,
  archiveBytes: number,
  target: UploadTarget,
): Promise<Plan> {
  const { tally } = target;
  const limits = tally.limits;
  const directories: string[] = [];
  const files: PlannedFile[] = [];
  const links: Plan['links'] = [];
  let declaredTotal = 0;
  try {
    for await (const entry of zipfile.eachEntry()) {
      const name = yauzl.getFileNameLowLevel(
        entry.generalPurposeBitFlag,
        entry.fileNameRaw,
        entry.extraFields,
        true,
      );
      const path = normalizeEntryPath(name, limits);
      if (entryIsLink(entry)) {
        const linkTarget = await readLinkTarget(zipfile, entry, name, tally);
        const kept = linkTarget === null ? null : tally.admitLink(name, path, linkTarget);
        if (kept !== null && linkTarget !== null)
          links.push({ path: kept.path, target: linkTarget });
        continue;
      }
      if (entryIsDirectory(entry, name)) {
        tally.admitDirectory(name, path);
        if (path !== null) directories.push(path.path);
        continue;
      }
      if (entry.isEncrypted()) {
        throw new UploadRejectedError({
          rule: 'encrypted',
          entry: name,
          detail: 'encrypted entries cannot be extracted; upload the archive without a password',
        });
      }
      if (
        entry.compressionMethod !== METHOD_STORED &&
        entry.compressionMethod !== METHOD_DEFLATED
      ) {
        throw new UploadRejectedError({
          rule: 'unsupported-compression',
          entry: name,
          detail: `method ${entry.compressionMethod}; only stored (0) and deflate (8) are supported`,
        });
      }
      const size = entry.uncompressedSize;
      const admitted = tally.admitFile(name, path, size);
      checkRatio(name, size, entry.compressedSize, limits, 'entry');
      declaredTotal += size;
      checkRatio(name, declaredTotal, archiveBytes, limits, 'archive');
      files.push({ entry, name, path: admitted.path, size });
    }
  } catch (error) {
    if (error instanceof UploadRejectedError) throw error;
    if (error instanceof Error && error.message.includes('strong encryption')) {
      throw new UploadRejectedError({
        rule: 'encrypted',
        detail: 'the archive uses strong encryption; upload it without a password',
      });
    }
    throw corruptArchiveError(null, error);
  }
  return { directories, files, links };
}

function entryIsLink(entry: Entry): boolean {
  return ((entry.externalFileAttributes >>> 16) & S_IFMT) === S_IFLNK;
}

/**
 * A link entry's target: its data, decoded as UTF-8. Null, with the link left out and a warning,
 * when it is longer than a target may be or not UTF-8; a damaged entry refuses the upload, as a
 * file's would.
 */
async function readLinkTarget(
  zipfile: ZipFile,
  entry: Entry,
  name: string,
  tally: UploadTarget['tally'],
): Promise<string | null> {
  if (entry.isEncrypted()) {
    throw new UploadRejectedError({
      rule: 'encrypted',
      entry: name,
      detail: 'encrypted entries cannot be extracted; upload the archive without a password',
    });
  }
  if (entry.uncompressedSize > MAX_LINK_TARGET_BYTES) {
    tally.leaveOut(
      name,
      'link-invalid',
      `its target is longer than ${MAX_LINK_TARGET_BYTES} bytes`,
    );
    return null;
  }
  if (entry.compressionMethod !== METHOD_STORED && entry.compressionMethod !== METHOD_DEFLATED) {
    throw new UploadRejectedError({
      rule: 'unsupported-compression',
      entry: name,
      detail: `method ${entry.compressionMethod}; only stored (0) and deflate (8) are supported`,
    });
  }
  let raw: Readable;
  try {
    raw = await zipfile.openReadStreamPromise(entry, { decodeFileData: false });
  } catch (error) {
    throw corruptArchiveError(name, error);
  }
  const chunks: Uint8Array[] = [];
  for await (const chunk of verifiedContent(raw, {
    entry,
    name,
    path: name,
    size: entry.uncompressedSize,
  }))
    chunks.push(chunk);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    tally.leaveOut(name, 'link-invalid', 'its target is not valid UTF-8');
    return null;
  }
}

/** Refuses an entry whose mode says device, FIFO or socket; tells a directory apart. */
function entryIsDirectory(entry: Entry, name: string): boolean {
  // Unix modes live in the high 16 bits of the external attributes. Checked whatever the
  // "made by" host says.
  const type = (entry.externalFileAttributes >>> 16) & S_IFMT;
  switch (type) {
    case S_IFCHR:
    case S_IFBLK:
      throw new UploadRejectedError({
        rule: 'device',
        entry: name,
        detail: 'device files are not allowed',
      });
    case S_IFIFO:
      throw new UploadRejectedError({
        rule: 'fifo',
        entry: name,
        detail: 'named pipes are not allowed',
      });
    case S_IFSOCK:
      throw new UploadRejectedError({
        rule: 'unsupported-entry',
        entry: name,
        detail: 'sockets are not allowed',
      });
  }
  return name.endsWith('/') || type === S_IFDIR;
}

function checkRatio(
  name: string,
  uncompressed: number,
  compressed: number,
  limits: UploadLimits,
  scope: 'entry' | 'archive',
): void {
  if (uncompressed <= limits.compressionRatioMinBytes) return;
  if (uncompressed <= compressed * limits.maxCompressionRatio) return;
  const ratio = compressed === 0 ? Number.POSITIVE_INFINITY : Math.floor(uncompressed / compressed);
  const what = scope === 'entry' ? 'this entry' : 'the archive, up to this entry,';
  throw new UploadRejectedError({
    rule: 'compression-ratio',
    entry: name,
    detail:
      `${what} declares ${uncompressed} bytes from ${compressed} compressed bytes ` +
      `(${ratio}:1), the limit is ${limits.maxCompressionRatio}:1`,
    limit: limits.maxCompressionRatio,
    actual: ratio,
  });
}

/**
 * The entry's real bytes: inflated here (not by yauzl) so the inflater is ours to stop; counted
 * against the declared size, and checked against the CRC-32 at the end.
 */
async function* verifiedContent(raw: Readable, file: PlannedFile): AsyncGenerator<Uint8Array> {
  let inflate: InflateRaw | null = null;
  let produced = 0;
  let checksum = 0;
  try {
    let source: AsyncIterable<Buffer> = raw;
    if (file.entry.compressionMethod === METHOD_DEFLATED) {
      // The compressed bytes are a slice of the upload, already within maxUploadBytes.
      const compressed = Buffer.concat((await raw.toArray()) as Buffer[]);
      inflate = createInflateRaw();
      inflate.end(compressed);
      source = inflate;
    }
    for await (const chunk of source) {
      produced += chunk.length;
      if (produced > file.size) {
        throw new UploadRejectedError({
          rule: 'corrupt-archive',
          entry: file.name,
          detail:
            `the data holds more than the ${file.size} bytes the archive declares for it ` +
            '(stopped there)',
          limit: file.size,
          actual: produced,
        });
      }
      checksum = crc32(chunk, checksum);
      yield chunk;
    }
  } catch (error) {
    throw corruptArchiveError(file.name, error);
  } finally {
    inflate?.destroy();
  }
  if (produced !== file.size) {
    throw new UploadRejectedError({
      rule: 'corrupt-archive',
      entry: file.name,
      detail: `the data holds ${produced} bytes, the archive declares ${file.size}`,
    });
  }
  if (checksum !== file.entry.crc32) {
    throw new UploadRejectedError({
      rule: 'corrupt-archive',
      entry: file.name,
      detail: 'CRC-32 mismatch, the data is damaged',
    });
  }
}
