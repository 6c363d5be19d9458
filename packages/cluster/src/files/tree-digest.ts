import { createHash } from 'node:crypto';
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, type FileHandle } from 'node:fs/promises';
import { linkTargetRefusal } from '@runbox/executor';

/**
 * The identity of a directory tree, and the one walk of it that the digest and the bundle share.
 *
 * A tree is its entries below the root: relative paths with "/", each a directory, a regular
 * file (with its executable bit and its bytes) or a symbolic link whose target stays inside the
 * tree (the executor's link-target.ts: relative, `..` only leading and never above the root),
 * kept as a link with its target, never followed. Nothing else is part of a tree: a link that
 * leaves it, a device, a FIFO or a socket makes it an error, since a copy could not reproduce it
 * and following it could leave the tree. Each directory is held open and its entries are reached
 * as `/proc/self/fd/<dir>/<name>` with O_NOFOLLOW (Node has no openat), so a name swapped for a
 * link during the walk fails instead of being followed.
 */

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
// O_NONBLOCK: a FIFO swapped in after the lstat must not block the open.
const FILE_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
const UTF8 = new TextDecoder('utf-8', { fatal: true });
const READ_CHUNK = 64 * 1024;
const DIGEST_PREFIX = 'sha256-';
const DIGEST_PATTERN = /^sha256-[0-9a-f]{64}$/;
/** Changes whenever what the digest covers changes, so old and new digests never collide. */
const DIGEST_FORMAT = 'runbox-tree-v1\n';

export interface TreeLimits {
  /** Entries (files and directories, the root not counted) a tree may hold. */
  maxFiles: number;
  /** Bytes of all its files together. */
  maxBytes: number;
  /** Path components of its deepest entry ("a/b/c" has 3). Default 64. */
  maxDepth?: number | undefined;
}

const MiB = 1024 * 1024;

/** Generous bounds for a project or a run's artifacts; callers pass tighter ones where known. */
export const DEFAULT_TREE_LIMITS: Readonly<Required<TreeLimits>> = Object.freeze({
  maxFiles: 20_000,
  maxBytes: 512 * MiB,
  maxDepth: 64,
});

export type TreeEntryKind = 'file' | 'directory' | 'symlink';

export interface TreeEntry {
  /** Relative to the root, "/" between names; never empty, never "." or "..". */
  path: string;
  kind: TreeEntryKind;
  /** Any execute bit set (files only; false for directories and links). */
  executable: boolean;
  /** Bytes (files only; 0 for directories and links). */
  size: number;
  /** A link's target, as readlink tells it (links only). */
  target?: string | undefined;
}

export interface TreeSummary {
  /** `sha256-<hex>` of the tree. */
  digest: string;
  /** Entries below the root (files and directories). */
  entries: number;
  /** Bytes of all files. */
  bytes: number;
}

/**
 * An entry a tree may not hold: a link that leaves it, a device, a FIFO, a socket, or a name that
 * is not UTF-8.
 */
export class UnsupportedEntryError extends Error {
  readonly code = 'UNSUPPORTED_TREE_ENTRY';
  readonly path: string;
  readonly kind: string;
  constructor(path: string, kind: string) {
    super(`${JSON.stringify(path)} is ${kind}; a tree holds only directories and regular files`);
    this.name = 'UnsupportedEntryError';
    this.path = path;
    this.kind = kind;
  }
}

export type TreeLimitName = 'maxFiles' | 'maxBytes' | 'maxDepth';

/** A tree (or a bundle of one) past one of its limits; nothing more of it is read. */
export class TreeLimitError extends Error {
  readonly code = 'TREE_LIMIT';
  readonly limit: TreeLimitName;
  readonly max: number;
  /** The entry that went past the limit, when there is one. */
  readonly path: string | null;
  constructor(options: { limit: TreeLimitName; max: number; path?: string | null; what: string }) {
    const at = options.path == null ? '' : ` at ${JSON.stringify(options.path)}`;
    super(`${options.what}${at}: the limit is ${options.limit}=${options.max}`);
    this.name = 'TreeLimitError';
    this.limit = options.limit;
    this.max = options.max;
    this.path = options.path ?? null;
  }
}

/** A file that changed (size, kind) between the walk and the read; its tree has no one digest. */
export class TreeChangedError extends Error {
  readonly code = 'TREE_CHANGED';
  readonly path: string;
  constructor(path: string, detail: string) {
    super(`${JSON.stringify(path)} changed while it was read: ${detail}`);
    this.name = 'TreeChangedError';
    this.path = path;
  }
}

/** A string that is not a tree digest (`sha256-` and 64 lowercase hex digits). */
export class InvalidDigestError extends Error {
  readonly code = 'INVALID_TREE_DIGEST';
  readonly value: string;
  constructor(value: string) {
    const shown = value.length > 80 ? `${value.slice(0, 80)}...` : value;
    super(`${JSON.stringify(shown)} is not a tree digest: expected "sha256-" and 64 hex digits`);
    this.name = 'InvalidDigestError';
    this.value = value;
  }
}

export function isTreeDigest(value: string): boolean {
  return DIGEST_PATTERN.test(value);
}

/** Throws InvalidDigestError unless `value` is a digest; call it before a digest names a path. */
export function assertTreeDigest(value: string): void {
  if (!isTreeDigest(value)) throw new InvalidDigestError(value);
}

/** The limits with their defaults; RangeError for one that is not a whole number >= 0. */
export function resolveTreeLimits(limits: TreeLimits): Required<TreeLimits> {
  const resolved = { maxDepth: DEFAULT_TREE_LIMITS.maxDepth, ...limits };
  for (const [name, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`tree limit ${name} must be a whole number >= 0, got ${String(value)}`);
    }
  }
  return resolved;
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFile()) return 'a regular file';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isBlockDevice() || stats.isCharacterDevice()) return 'a device';
  return 'an entry of unknown type';
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

function below(dir: FileHandle, name: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`/proc/self/fd/${dir.fd}/`), Buffer.from(name)]);
}

async function openRoot(root: string): Promise<FileHandle> {
  const stats = await lstat(root);
  if (!stats.isDirectory()) throw new UnsupportedEntryError('.', kindOf(stats));
  return open(root, DIRECTORY_FLAGS);
}

/**
 * Every entry below `root`, sorted by the UTF-8 bytes of the path (so a directory comes before
 * what it holds). Fails on the first entry past a limit or of a kind a tree may not hold.
 */
export async function listTree(root: string, limits: TreeLimits): Promise<TreeEntry[]> {
  const { maxFiles, maxBytes, maxDepth } = resolveTreeLimits(limits);
  const entries: TreeEntry[] = [];
  let bytes = 0;

  const walk = async (dir: FileHandle, prefix: string, depth: number): Promise<void> => {
    for (const raw of await readdir(below(dir, ''), { encoding: 'buffer' })) {
      let name: string;
      try {
        name = UTF8.decode(raw);
      } catch {
        throw new UnsupportedEntryError(
          prefix + raw.toString('utf8'),
          'a name that is not valid UTF-8',
        );
      }
      const path = prefix + name;
      if (entries.length >= maxFiles) {
        throw new TreeLimitError({
          limit: 'maxFiles',
          max: maxFiles,
          path,
          what: `the tree holds more than ${maxFiles} files and directories`,
        });
      }
      if (depth + 1 > maxDepth) {
        throw new TreeLimitError({
          limit: 'maxDepth',
          max: maxDepth,
          path,
          what: `the tree is more than ${maxDepth} levels deep`,
        });
      }
      const stats = await lstat(below(dir, raw));
      if (stats.isFile()) {
        bytes += stats.size;
        if (bytes > maxBytes) {
          throw new TreeLimitError({
            limit: 'maxBytes',
            max: maxBytes,
            path,
            what: `the tree's files hold more than ${maxBytes} bytes`,
          });
        }
        const executable = (stats.mode & 0o111) !== 0;
        entries.push({ path, kind: 'file', executable, size: stats.size });
      } else if (stats.isSymbolicLink()) {
        const target = await linkTarget(below(dir, raw), path);
        entries.push({ path, kind: 'symlink', executable: false, size: 0, target });
      } else if (stats.isDirectory()) {
        entries.push({ path, kind: 'directory', executable: false, size: 0 });
        const child = await open(below(dir, raw), DIRECTORY_FLAGS);
        try {
          await walk(child, `${path}/`, depth + 1);
        } finally {
          await child.close();
        }
      } else {
        throw new UnsupportedEntryError(path, kindOf(stats));
      }
    }
  };

  const top = await openRoot(root);
  try {
    await walk(top, '', 0);
  } finally {
    await top.close();
  }
  // Sorted on whole paths rather than per directory: the order is then a property of the set of
  // paths alone, which another implementation can reproduce without walking a tree.
  const keyed = entries.map((entry) => ({ entry, key: Buffer.from(entry.path) }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map((item) => item.entry);
}

/** A link's target, read (never followed); one that leaves the tree is an unsupported entry. */
async function linkTarget(at: Buffer, path: string): Promise<string> {
  let target: string;
  try {
    target = UTF8.decode(await readlink(at, { encoding: 'buffer' }));
  } catch (error) {
    if (error instanceof TypeError)
      throw new UnsupportedEntryError(path, 'a symbolic link whose target is not valid UTF-8');
    throw error;
  }
  const refusal = linkTargetRefusal(path, target);
  if (refusal)
    throw new UnsupportedEntryError(
      path,
      `a symbolic link that leaves the tree (${refusal.message})`,
    );
  return target;
}

export interface OpenedTreeFile {
  handle: FileHandle;
  size: number;
  executable: boolean;
}

/**
 * Opens the regular file at `path` below `root`, through each directory on the way without
 * following a link anywhere. The caller closes the handle.
 */
export async function openTreeFile(root: string, path: string): Promise<OpenedTreeFile> {
  const parts = path.split('/');
  const name = parts.pop();
  if (
    name === undefined ||
    [...parts, name].some((part) => part === '' || part === '.' || part === '..')
  ) {
    throw new UnsupportedEntryError(path, 'not a plain relative path');
  }
  let dir = await open(root, DIRECTORY_FLAGS);
  try {
    for (const [index, part] of parts.entries()) {
      let next: FileHandle;
      try {
        next = await open(below(dir, part), DIRECTORY_FLAGS);
      } catch (error) {
        const code = errorCode(error);
        if (code !== 'ELOOP' && code !== 'ENOTDIR') throw error;
        // A link (or a file) where the walk saw a directory: say what is there now.
        const stats = await lstat(below(dir, part));
        throw new UnsupportedEntryError(parts.slice(0, index + 1).join('/'), kindOf(stats));
      }
      await dir.close();
      dir = next;
    }
    let handle: FileHandle;
    try {
      handle = await open(below(dir, name), FILE_FLAGS);
    } catch (error) {
      if (errorCode(error) === 'ELOOP') {
        throw new UnsupportedEntryError(path, 'a symbolic link');
      }
      throw error;
    }
    const stats = await handle.stat();
    if (!stats.isFile()) {
      await handle.close();
      throw new UnsupportedEntryError(path, kindOf(stats));
    }
    return { handle, size: stats.size, executable: (stats.mode & 0o111) !== 0 };
  } finally {
    await dir.close();
  }
}

/**
 * The bytes of a file opened with openTreeFile, in chunks, exactly `expected` of them: a file that
 * turns out shorter or longer than the walk saw fails with TreeChangedError.
 */
export async function* readTreeFile(
  file: OpenedTreeFile,
  path: string,
  expected: number,
): AsyncGenerator<Buffer> {
  if (file.size !== expected) {
    throw new TreeChangedError(path, `it held ${expected} bytes, now ${file.size}`);
  }
  let position = 0;
  while (position < expected) {
    const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, expected - position));
    const { bytesRead } = await file.handle.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) {
      throw new TreeChangedError(path, `it ended after ${position} of ${expected} bytes`);
    }
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
  const probe = Buffer.alloc(1);
  if ((await file.handle.read(probe, 0, 1, position)).bytesRead !== 0) {
    throw new TreeChangedError(path, `it grew past ${expected} bytes`);
  }
}

/**
 * The digest of the tree at `root` (see listTree), with its size. What it covers, in path order:
 * each entry's kind, path and, for a file, its executable bit and the SHA-256 of its bytes, for a
 * link the SHA-256 of its target. Not covered: owners, times, other mode bits, the root's own
 * name or mode. (A tree without links has the digest it had before links were kept.)
 */
export async function summarizeTree(root: string, limits: TreeLimits): Promise<TreeSummary> {
  const entries = await listTree(root, limits);
  const tree = createHash('sha256').update(DIGEST_FORMAT);
  let bytes = 0;
  for (const entry of entries) {
    // Fixed-width fields first, then the path, then NUL (no path holds one): no two trees can
    // produce the same sequence of records.
    if (entry.kind === 'directory') {
      tree.update(`d `).update(entry.path).update('\0');
      continue;
    }
    if (entry.kind === 'symlink') {
      const target = createHash('sha256').update(entry.target ?? '');
      tree
        .update(`l ${target.digest('hex')} `)
        .update(entry.path)
        .update('\0');
      continue;
    }
    const file = await openTreeFile(root, entry.path);
    const content = createHash('sha256');
    try {
      for await (const chunk of readTreeFile(file, entry.path, entry.size)) content.update(chunk);
    } finally {
      await file.handle.close();
    }
    bytes += entry.size;
    tree
      .update(`f ${file.executable ? 'x' : '-'} ${content.digest('hex')} `)
      .update(entry.path)
      .update('\0');
  }
  return { digest: DIGEST_PREFIX + tree.digest('hex'), entries: entries.length, bytes };
}

/** `sha256-<hex>` of the tree at `root`; see summarizeTree. */
export async function digestTree(root: string, limits: TreeLimits): Promise<string> {
  return (await summarizeTree(root, limits)).digest;
}
