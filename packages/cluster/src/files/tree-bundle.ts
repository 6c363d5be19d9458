import { constants } from 'node:fs';
import { chmod, chown, lchown, mkdir, open, rm, symlink } from 'node:fs/promises';
import { linkTargetRefusal } from '@runbox/executor';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  extract as createExtract,
  pack as createPack,
  type Extract,
  type Header,
  type Pack,
} from 'tar-stream';
import {
  DEFAULT_TREE_LIMITS,
  listTree,
  openTreeFile,
  readTreeFile,
  resolveTreeLimits,
  TreeLimitError,
  type TreeEntry,
  type TreeLimits,
} from './tree-digest.ts';

/**
 * A tree (see tree-digest.ts) as a tar stream, and back. The tar holds the tree's entries in the
 * digest's order, with fixed owners, times and modes, so the same tree always gives the same
 * bytes; a link is a symlink entry with its target. Unpacking writes only into a directory it
 * creates itself, and takes nothing a tree may not hold: a refused bundle leaves nothing behind.
 * Links are taken only when the caller asks (a project's bundle; a run's kept files hold none),
 * and only those whose target stays inside the tree; nothing is ever written below one (an entry
 * under a link has no directory before it in the bundle).
 */

/** Modes written: only the executable bit of a file survives the trip. */
export const DIRECTORY_MODE = 0o755;
export const FILE_MODE = 0o644;
export const EXECUTABLE_FILE_MODE = 0o755;
const LINK_MODE = 0o777;
/** The root an unpack creates is private to this process's user until the caller moves it. */
export const TARGET_MODE = 0o700;

/** UTF-8 bytes of one name, as Linux filesystems allow. */
const MAX_NAME_BYTES = 255;
/**
 * UTF-8 bytes of one entry path. A kept artifact's path is at most 1,024 UTF-16 units (3,072
 * bytes) below `files/`, so that fits; the host path it is written at must still stay under
 * PATH_MAX (4,096), as it had to where the tree was packed.
 */
export const MAX_BUNDLE_PATH_BYTES = 3_200;

const TAR_BLOCK = 512;
/** Tar bytes allowed per entry beyond its data: header, pax record of a long name, padding. */
const TAR_OVERHEAD_PER_ENTRY = 16 * TAR_BLOCK;
/** Two zero blocks end an archive; writers may pad to 20-block records. */
const TAR_TRAILER = 20 * TAR_BLOCK;
const EPOCH = new Date(0);
const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export type BundleRule =
  | 'absolute-path'
  | 'parent-reference'
  | 'invalid-path'
  | 'duplicate-entry'
  | 'missing-parent'
  | 'symlink'
  | 'hardlink'
  | 'device'
  | 'fifo'
  | 'unsupported-entry'
  | 'corrupt';

/** A bundle that is not a tree: what was wrong, and with which entry. Nothing of it is kept. */
export class BundleRejectedError extends Error {
  readonly code = 'BUNDLE_REJECTED';
  readonly rule: BundleRule;
  /** The entry's name as the tar gave it; null when the fault is not one entry's. */
  readonly entry: string | null;
  constructor(options: { rule: BundleRule; entry: string | null; detail: string }) {
    const entry = options.entry === null ? '' : ` ${JSON.stringify(options.entry.slice(0, 200))}`;
    super(`bundle entry${entry} refused (${options.rule}): ${options.detail}`);
    this.name = 'BundleRejectedError';
    this.rule = options.rule;
    this.entry = options.entry;
  }
}

/** unpackTree only ever creates its target; it never writes into what is already there. */
export class BundleTargetExistsError extends Error {
  readonly code = 'BUNDLE_TARGET_EXISTS';
  readonly targetDir: string;
  constructor(targetDir: string) {
    super(`${targetDir} already exists; a bundle is unpacked only into a new directory`);
    this.name = 'BundleTargetExistsError';
    this.targetDir = targetDir;
  }
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

// ---------------------------------------------------------------------------------------------
// Packing

/**
 * The tree at `root` as a tar stream. Fails (the stream errors) on whatever makes listTree or
 * summarizeTree fail: a link or device in the tree, a limit passed, a file that changes while it
 * is read. A consumer that stops early destroys the stream; the open file is closed.
 */
export function packTree(root: string, limits: TreeLimits = DEFAULT_TREE_LIMITS): Readable {
  // Readable.from gives a real Node stream (tar-stream's own are streamx streams) that reads the
  // tree only as fast as the consumer takes the bytes.
  return Readable.from(tarChunks(root, limits), { objectMode: false });
}

async function* tarChunks(root: string, limits: TreeLimits): AsyncGenerator<Buffer> {
  const entries = await listTree(root, limits);
  const pack = createPack();
  const filling = fillPack(pack, root, entries).then(
    () => pack.finalize(),
    (error: unknown) => pack.destroy(toError(error)),
  );
  try {
    for await (const chunk of pack) {
      if (!(chunk instanceof Uint8Array))
        throw new TypeError('tar-stream produced a non-binary chunk');
      yield Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  } finally {
    // Stopped early or failed: end the pack so fillPack stops at its next write.
    if (!pack.destroyed) pack.destroy();
    await filling;
  }
}

async function fillPack(pack: Pack, root: string, entries: TreeEntry[]): Promise<void> {
  for (const entry of entries) {
    if (entry.kind === 'directory') {
      await addEntry(pack, { name: entry.path, type: 'directory', mode: DIRECTORY_MODE }, null);
      continue;
    }
    if (entry.kind === 'symlink') {
      await addEntry(
        pack,
        { name: entry.path, type: 'symlink', mode: LINK_MODE, linkname: entry.target ?? '' },
        null,
      );
      continue;
    }
    const file = await openTreeFile(root, entry.path);
    try {
      const mode = file.executable ? EXECUTABLE_FILE_MODE : FILE_MODE;
      await addEntry(
        pack,
        { name: entry.path, type: 'file', mode, size: entry.size },
        readTreeFile(file, entry.path, entry.size),
      );
    } finally {
      await file.handle.close();
    }
  }
}

async function addEntry(
  pack: Pack,
  header: TreeHeader,
  chunks: AsyncIterable<Buffer> | null,
): Promise<void> {
  let settle: (error: Error | null | undefined) => void = () => {};
  const done = new Promise<void>((resolve, reject) => {
    settle = (error) => (error ? reject(error) : resolve());
  });
  // The entry can fail (the pack destroyed) while this still reads the file; it is awaited below.
  done.catch(() => {});
  const sink = pack.entry(
    { ...header, uid: 0, gid: 0, uname: '', gname: '', mtime: EPOCH },
    (error) => settle(error),
  );
  try {
    if (chunks !== null) {
      for await (const chunk of chunks) {
        if (sink.destroyed) break;
        if (!sink.write(chunk)) await drained(sink);
      }
    }
    sink.end(null);
  } catch (error) {
    sink.destroy(toError(error));
    await done.catch(() => {});
    throw error;
  }
  await done;
}

/** What packTree writes of an entry; the rest of the header is fixed. */
type TreeHeader = Pick<Header, 'name' | 'type' | 'mode'> & { size?: number; linkname?: string };

/** tar-stream's streams are streamx streams; this is all drained() needs of one. */
interface Drainable {
  on(name: 'drain' | 'close', fn: () => void): unknown;
  off(name: 'drain' | 'close', fn: () => void): unknown;
}

/** Resolves once the stream takes writes again, or is gone. */
function drained(stream: Drainable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}

// ---------------------------------------------------------------------------------------------
// Unpacking

export interface UnpackedTree {
  /** Entries written (files and directories). */
  entries: number;
  /** Bytes of all files written. */
  bytes: number;
}

export interface UnpackOptions {
  /** Take links whose target stays inside the tree (a project's). @default false: refused */
  links?: boolean | undefined;
  /**
   * Host user and group given the target and every entry (the sandbox user, for a worker's
   * projects: runs then see them through a layer, not a copy). @default the process's own
   */
  owner?: { uid: number; gid: number } | null | undefined;
}

/**
 * Unpacks a bundle into `targetDir`, which it creates (mode 0700; its parent must exist). Only
 * directories and regular files are taken (and links, with `links`), each after its parent
 * directory, each once, with plain relative paths; past a limit it stops with TreeLimitError. On
 * any failure, whatever was written is removed (the target too) before the error is thrown.
 */
export async function unpackTree(
  source: AsyncIterable<Uint8Array>,
  targetDir: string,
  limits: TreeLimits,
  options: UnpackOptions = {},
): Promise<UnpackedTree> {
  const resolved = resolveTreeLimits(limits);
  try {
    await mkdir(targetDir, { mode: TARGET_MODE });
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'EEXIST') {
      throw new BundleTargetExistsError(targetDir);
    }
    throw error;
  }
  try {
    await chmod(targetDir, TARGET_MODE);
    if (options.owner) await chown(targetDir, options.owner.uid, options.owner.gid);
    return await extractInto(source, targetDir, resolved, options);
  } catch (error) {
    try {
      await rm(targetDir, { recursive: true, force: true });
    } catch (cleanup) {
      throw new AggregateError(
        [error, cleanup],
        `${targetDir} could not be removed after a failure`,
      );
    }
    throw error;
  }
}

/** An error from tar-stream while reading headers or entry data (as opposed to writing). */
class TarReadError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'TarReadError';
  }
}

interface TarEntry extends AsyncIterable<unknown> {
  header: Header;
}

async function extractInto(
  source: AsyncIterable<Uint8Array>,
  targetDir: string,
  limits: Required<TreeLimits>,
  options: UnpackOptions,
): Promise<UnpackedTree> {
  const extract = createExtract();
  const state: ExtractState = {
    targetDir,
    limits,
    links: options.links ?? false,
    owner: options.owner ?? null,
    directories: new Set(['']),
    seen: new Set(),
    entries: 0,
    bytes: 0,
  };
  let current: string | null = null;
  let feedError: unknown = null;
  let parseError: unknown = null;
  extract.on('error', (error: unknown) => {
    parseError ??= error;
  });
  const closed = new Promise<void>((resolve) => extract.once('close', () => resolve()));
  const maxStreamBytes =
    limits.maxBytes + (limits.maxFiles + 1) * TAR_OVERHEAD_PER_ENTRY + TAR_TRAILER;
  const feeding = feed(extract, source, maxStreamBytes).catch((error: unknown) => {
    feedError = error;
    extract.destroy(toError(error));
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
      await writeEntry(next.value, state);
      current = null;
    }
  } catch (error) {
    failure = { error };
  }
  extract.destroy();
  await closed;
  if (failure === null) {
    // All read: the feed has ended the extractor and is done.
    await feeding;
    return { entries: state.entries, bytes: state.bytes };
  }
  // Not awaited on failure: the feed may wait on a source that sends nothing more; it stops at
  // its next chunk. A limit passed (or a source that failed) while feeding destroyed the
  // extractor: report that, not its echo.
  if (feedError !== null) throw feedError;
  if (failure.error instanceof TarReadError) {
    const cause = parseError ?? failure.error.cause;
    throw new BundleRejectedError({
      rule: 'corrupt',
      entry: current,
      detail: `not a readable tar stream: ${toError(cause).message}`,
    });
  }
  throw failure.error;
}

/** Writes the source into the extractor with backpressure, counting bytes against `max`. */
async function feed(
  extract: Extract,
  source: AsyncIterable<Uint8Array>,
  max: number,
): Promise<void> {
  let total = 0;
  for await (const chunk of source) {
    if (extract.destroyed) return;
    total += chunk.byteLength;
    if (total > max) {
      // Tar headers are not file bytes, but they are bounded too: pax records are held in memory.
      throw new TreeLimitError({
        limit: 'maxBytes',
        max: max,
        path: null,
        what: `the bundle's tar stream is longer than ${max} bytes (maxBytes plus headers)`,
      });
    }
    if (!extract.write(chunk)) await drained(extract);
  }
  if (!extract.destroyed) extract.end(null);
}

interface ExtractState {
  targetDir: string;
  limits: Required<TreeLimits>;
  links: boolean;
  owner: { uid: number; gid: number } | null;
  /** Directories written so far, by relative path ('' is the target). */
  directories: Set<string>;
  seen: Set<string>;
  entries: number;
  bytes: number;
}

async function writeEntry(entry: TarEntry, state: ExtractState): Promise<void> {
  const { name, type } = entry.header;
  const refuse = (rule: BundleRule, detail: string): never => {
    throw new BundleRejectedError({ rule, entry: name, detail });
  };
  switch (type) {
    case 'file':
    case 'contiguous-file':
    case 'directory':
      break;
    case 'symlink':
      if (!state.links) return refuse('symlink', 'this bundle may hold no symbolic links');
      break;
    case 'link':
      return refuse('hardlink', 'a tree holds no hard links');
    case 'character-device':
    case 'block-device':
      return refuse('device', 'a tree holds no device files');
    case 'fifo':
      return refuse('fifo', 'a tree holds no named pipes');
    default:
      return refuse(
        'unsupported-entry',
        `tar entry type ${type ?? '(unknown type flag)'} is not supported; only regular files ` +
          'and directories are',
      );
  }
  const isDirectory = type === 'directory';
  const path = checkEntryPath(isDirectory ? name.replace(/\/$/, '') : name, name, state.limits);
  if (state.seen.has(path)) refuse('duplicate-entry', 'the path comes twice in the bundle');
  state.seen.add(path);
  const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
  if (!state.directories.has(parent)) {
    refuse(
      'missing-parent',
      `its directory ${JSON.stringify(parent)} is not in the bundle before it`,
    );
  }
  state.entries += 1;
  if (state.entries > state.limits.maxFiles) {
    throw new TreeLimitError({
      limit: 'maxFiles',
      max: state.limits.maxFiles,
      path,
      what: `the bundle holds more than ${state.limits.maxFiles} files and directories`,
    });
  }
  const hostPath = join(state.targetDir, ...path.split('/'));
  const { owner } = state;

  if (type === 'symlink') {
    const target = entry.header.linkname ?? '';
    const refusal = linkTargetRefusal(path, target);
    if (refusal) refuse('symlink', `a link may not leave the tree: ${refusal.message}`);
    // symlink(2) never follows anything, and fails on a name already there. Not a directory of
    // the bundle: an entry below it has no parent and is refused.
    await symlink(target, hostPath);
    if (owner) await lchown(hostPath, owner.uid, owner.gid);
    for await (const _chunk of dataChunks(entry)) {
      // A link has no data; drain whatever the header claims.
    }
    return;
  }

  if (isDirectory) {
    await mkdir(hostPath, { mode: DIRECTORY_MODE });
    await chmod(hostPath, DIRECTORY_MODE);
    if (owner) await chown(hostPath, owner.uid, owner.gid);
    state.directories.add(path);
    for await (const _chunk of dataChunks(entry)) {
      // A directory has no data; drain whatever the header claims.
    }
    return;
  }

  const size = entry.header.size;
  if (!Number.isSafeInteger(size) || size < 0) {
    refuse('corrupt', `the header declares a size of ${String(size)} bytes`);
  }
  if (state.bytes + size > state.limits.maxBytes) {
    throw new TreeLimitError({
      limit: 'maxBytes',
      max: state.limits.maxBytes,
      path,
      what: `the bundle's files hold more than ${state.limits.maxBytes} bytes`,
    });
  }
  state.bytes += size;
  const mode = (entry.header.mode & 0o111) !== 0 ? EXECUTABLE_FILE_MODE : FILE_MODE;
  // O_EXCL | O_NOFOLLOW: the file is new, in a directory this unpack made; nothing is written
  // through a name that already exists.
  const handle = await open(hostPath, CREATE_FLAGS, FILE_MODE);
  let written = 0;
  try {
    await handle.chmod(mode);
    if (owner) await handle.chown(owner.uid, owner.gid);
  } catch (error) {
    await handle.close();
    throw error;
  }
  // The write stream closes the handle when it ends or fails.
  await pipeline(
    dataChunks(entry),
    async function* (chunks: AsyncIterable<Uint8Array>) {
      for await (const chunk of chunks) {
        written += chunk.byteLength;
        yield chunk;
      }
    },
    handle.createWriteStream(),
  );
  if (written !== size) {
    refuse('corrupt', `the data holds ${written} bytes, the header declares ${size}`);
  }
}

/** Checks an entry's path and returns it; `name` is the tar's own, for the error. */
function checkEntryPath(path: string, name: string, limits: Required<TreeLimits>): string {
  const refuse = (rule: BundleRule, detail: string): never => {
    throw new BundleRejectedError({ rule, entry: name, detail });
  };
  if (path.startsWith('/')) refuse('absolute-path', 'an entry path must be relative');
  if (path.includes('\0')) refuse('invalid-path', 'an entry path holds no NUL byte');
  if (Buffer.byteLength(path) > MAX_BUNDLE_PATH_BYTES) {
    refuse('invalid-path', `an entry path is at most ${MAX_BUNDLE_PATH_BYTES} bytes of UTF-8`);
  }
  const parts = path.split('/');
  if (parts.includes('..')) refuse('parent-reference', 'an entry path may not contain ".."');
  if (parts.some((part) => part === '' || part === '.')) {
    refuse(
      'invalid-path',
      'an entry path is plain names joined by "/", without "." or empty names',
    );
  }
  if (parts.some((part) => Buffer.byteLength(part) > MAX_NAME_BYTES)) {
    refuse('invalid-path', `a name in an entry path is at most ${MAX_NAME_BYTES} bytes of UTF-8`);
  }
  if (parts.length > limits.maxDepth) {
    throw new TreeLimitError({
      limit: 'maxDepth',
      max: limits.maxDepth,
      path,
      what: `the bundle is more than ${limits.maxDepth} levels deep`,
    });
  }
  return path;
}

/** The entry's data; a read error is marked as such so it is not taken for a write error. */
async function* dataChunks(entry: AsyncIterable<unknown>): AsyncGenerator<Uint8Array> {
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
        throw new TarReadError(new TypeError('a tar entry produced a non-binary chunk'));
      }
      yield chunk;
    }
  } finally {
    // Stopped early (a write failed): let the stream go, as for-await would.
    if (!finished) await iterator.return?.();
  }
}
