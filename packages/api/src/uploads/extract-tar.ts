import { createGunzip } from 'node:zlib';
import { extract as createExtract, type Extract } from 'tar-stream';
import { isTarBlock } from './detect-format.ts';
import { normalizeEntryPath } from './entry-path.ts';
import { corruptArchiveError, UploadRejectedError } from './upload-errors.ts';
import type { UploadLimits } from './upload-limits.ts';
import type { UploadTarget } from './upload-target.ts';

/**
 * Extracts a tar or tar.gz upload with tar-stream, in one streaming pass. Regular files and
 * directories are written; a symbolic link is kept as a link when its target stays inside the
 * project and left out with a warning otherwise (upload-tally.ts); a hard link becomes a copy of
 * the earlier file it names. Devices, FIFOs and anything else are refused. tar-stream folds pax headers (path, linkpath, size; global ones too)
 * and GNU long names into the entry that follows, so pax records never reach this code as
 * entries; the names they carry are checked like any other. A gzip stream is inflated with
 * backpressure and a byte counter, so a gzip bomb is stopped while inflating.
 */

const TAR_BLOCK = 512;
/** Tar bytes allowed per entry beyond its data: header, pax/long-name records, padding. */
const TAR_OVERHEAD_PER_ENTRY = 16 * TAR_BLOCK;
/** GNU tar pads the archive to 20-block records; two zero blocks end it. */
const TAR_TRAILER = 20 * TAR_BLOCK;

/** Most tar bytes a gzip stream may inflate to before it is stopped. */
export function maxTarStreamBytes(limits: UploadLimits): number {
  return (
    limits.maxTotalBytes +
    (limits.maxFiles + limits.maxDirectories) * TAR_OVERHEAD_PER_ENTRY +
    TAR_TRAILER
  );
}

interface TarEntry extends AsyncIterable<unknown> {
  header: { name: string; size: number; type: string | null; linkname?: string | null };
}

export async function extractTar(
  bytes: Buffer,
  options: { gzip: boolean },
  target: UploadTarget,
): Promise<void> {
  const extract = createExtract();
  let current: string | null = null;
  let feedError: unknown = null;
  let parseError: unknown = null;
  extract.on('error', (error: unknown) => {
    parseError ??= error;
  });
  const closed = new Promise<void>((resolve) => extract.once('close', () => resolve()));
  const chunks = options.gzip ? gunzipTar(bytes, target.tally.limits, () => current) : [bytes];
  const feeding = feed(extract, chunks).catch((error: unknown) => {
    feedError = error;
    extract.destroy(error instanceof Error ? error : new Error(String(error)));
  });

  let failure: { error: unknown } | null = null;
  const entries = (extract as AsyncIterable<TarEntry>)[Symbol.asyncIterator]();
  try {
    for (;;) {
      let next: IteratorResult<TarEntry>;
      try {
        next = await entries.next();
      } catch (error) {
        throw new TarReadError(error);
      }
      if (next.done === true) break;
      current = next.value.header.name;
      await extractEntry(next.value, target);
      current = null;
    }
  } catch (error) {
    failure = { error };
  }
  extract.destroy();
  await closed;
  await feeding;
  // A limit broken while inflating destroys the extractor: report that, not its echo. A read
  // error is reported with the parser's own error, known once the extractor has closed.
  if (feedError !== null) throw feedError;
  if (failure === null) return;
  if (failure.error instanceof TarReadError) {
    throw corruptArchiveError(current, parseError ?? failure.error.cause);
  }
  throw failure.error;
}

/** An error from tar-stream while reading headers or entry data (as opposed to writing). */
class TarReadError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'TarReadError';
  }
}

async function extractEntry(entry: TarEntry, target: UploadTarget): Promise<void> {
  const { name, size, type } = entry.header;
  const path = normalizeEntryPath(name, target.tally.limits);
  const refuse = (rule: 'device' | 'fifo' | 'unsupported-entry', detail: string): never => {
    throw new UploadRejectedError({ rule, entry: name, detail });
  };
  switch (type) {
    case 'file':
    case 'contiguous-file': {
      const admitted = target.tally.admitFile(name, path, size);
      const written = await target.writer.file(admitted.path, binaryChunks(entry));
      if (written !== size) {
        throw new UploadRejectedError({
          rule: 'corrupt-archive',
          entry: name,
          detail: `the data holds ${written} bytes, the header declares ${size}`,
        });
      }
      return;
    }
    case 'directory':
      target.tally.admitDirectory(name, path);
      if (path !== null) await target.writer.directory(path.path);
      await drain(entry);
      return;
    case 'symlink': {
      const kept = target.tally.admitLink(name, path, entry.header.linkname ?? '');
      if (kept !== null) await target.writer.symlink(kept.path, entry.header.linkname ?? '');
      await drain(entry);
      return;
    }
    case 'link': {
      const copy = target.tally.admitHardLink(name, path, entry.header.linkname ?? '');
      if (copy !== null) await target.writer.copy(copy.path.path, copy.from);
      await drain(entry);
      return;
    }
    case 'character-device':
    case 'block-device':
      return refuse('device', 'device files are not allowed');
    case 'fifo':
      return refuse('fifo', 'named pipes are not allowed');
    default:
      return refuse(
        'unsupported-entry',
        `tar entry type ${type === null ? '(unknown type flag)' : type} is not supported; ` +
          'only regular files and directories are',
      );
  }
}

/** A directory or a link has no data; whatever the header claims is read and dropped. */
async function drain(entry: AsyncIterable<unknown>): Promise<void> {
  for await (const _chunk of binaryChunks(entry)) {
    // dropped
  }
}

/** The entry's data; a read error is marked as such so it is not taken for a write error. */
async function* binaryChunks(entry: AsyncIterable<unknown>): AsyncGenerator<Uint8Array> {
  const iterator = entry[Symbol.asyncIterator]();
  let finished = false;
  try {
    for (;;) {
      let next: IteratorResult<unknown>;
      try {
        next = await iterator.next();
      } catch (error) {
        finished = true;
        throw new TarReadError(error);
      }
      if (next.done === true) {
        finished = true;
        return;
      }
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new TarReadError(new TypeError('tar entry produced a non-binary chunk'));
      }
      yield chunk;
    }
  } finally {
    // Stopped early (a write failed): let the stream go, as for-await would.
    if (!finished) await iterator.return?.();
  }
}

/** Writes chunks into the extractor, waiting for it to drain; stops if it is destroyed. */
async function feed(
  extract: Extract,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<void> {
  for await (const chunk of chunks) {
    if (extract.destroyed || extract.destroying) return;
    if (!extract.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          extract.off('drain', done);
          extract.off('close', done);
          resolve();
        };
        extract.on('drain', done);
        extract.on('close', done);
      });
    }
  }
  if (!extract.destroyed && !extract.destroying) extract.end(null);
}

/**
 * The inflated tar bytes of a gzip upload, pulled on demand. Stops with compression-ratio once
 * the output passes maxCompressionRatio times the upload (after compressionRatioMinBytes), with
 * total-too-large past maxTarStreamBytes, and with unsupported-format if the first block is not
 * a tar header. `current` names the entry being read, for the error.
 */
async function* gunzipTar(
  bytes: Buffer,
  limits: UploadLimits,
  current: () => string | null,
): AsyncGenerator<Uint8Array> {
  const gunzip = createGunzip();
  gunzip.end(bytes);
  const cap = maxTarStreamBytes(limits);
  let inflated = 0;
  let head: Buffer | null = Buffer.alloc(0);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      inflated += chunk.length;
      if (
        inflated > limits.compressionRatioMinBytes &&
        inflated > bytes.length * limits.maxCompressionRatio
      ) {
        const ratio = Math.floor(inflated / bytes.length);
        throw new UploadRejectedError({
          rule: 'compression-ratio',
          entry: current(),
          detail:
            `the gzip data inflates to more than ${inflated} bytes from ${bytes.length} ` +
            `(more than ${ratio}:1), the limit is ${limits.maxCompressionRatio}:1; stopped there`,
          limit: limits.maxCompressionRatio,
          actual: ratio,
        });
      }
      if (inflated > cap) {
        throw new UploadRejectedError({
          rule: 'total-too-large',
          entry: current(),
          detail:
            `the gzip data inflates to more than ${cap} bytes of tar (${limits.maxTotalBytes} ` +
            'bytes of files plus headers); stopped there',
          limit: limits.maxTotalBytes,
          actual: inflated,
        });
      }
      if (head === null) {
        yield chunk;
        continue;
      }
      head = Buffer.concat([head, chunk]);
      if (head.length < TAR_BLOCK) continue;
      checkTarHead(head);
      const first = head;
      head = null;
      yield first;
    }
  } catch (error) {
    throw corruptArchiveError(current(), error);
  } finally {
    gunzip.destroy();
  }
  if (head !== null) {
    if (head.length === 0) {
      throw new UploadRejectedError({ rule: 'empty', detail: 'the gzip data is empty' });
    }
    checkTarHead(head);
  }
}

function checkTarHead(head: Buffer): void {
  if (!isTarBlock(head)) {
    throw new UploadRejectedError({
      rule: 'unsupported-format',
      detail: 'gzip-compressed data that is not a tar archive; upload a zip, tar or tar.gz archive',
    });
  }
}
