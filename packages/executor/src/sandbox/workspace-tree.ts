import { constants } from 'node:fs';
import { chmod, lstat, open, readdir, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import type { WorkspaceEntry, WorkspaceEntryKind } from './safe-fs.ts';

/**
 * Host-side walks of a directory a run has written. The run chose every name and the depth, so a
 * path built by joining names can pass PATH_MAX (ENAMETOOLONG) and any name may be a link. Node
 * has no openat(), so each directory is held open and its entries are reached through
 * `/proc/self/fd/<fd>/<name>`: a path that is never longer than one name, resolved inside the
 * directory held open, and opened with O_NOFOLLOW so a link fails instead of being followed.
 */

const DIRECTORY_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function entryPath(dir: FileHandle, name: Buffer | string): Buffer {
  return Buffer.concat([Buffer.from(`/proc/self/fd/${dir.fd}/`), Buffer.from(name)]);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

function kindOf(stats: Awaited<ReturnType<typeof lstat>>): WorkspaceEntryKind {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFile()) return 'file';
  return 'other';
}

/** Why an entry was passed over by a scan; it is reported, never an error of the run. */
export type ScanSkipReason = 'unreadable_name' | 'too_deep' | 'unreadable';

export interface ScanSkip {
  /** Relative path, invalid UTF-8 shown with replacement characters. */
  path: string;
  reason: ScanSkipReason;
}

export interface WorkspaceScan {
  entries: WorkspaceEntry[];
  /** Entries passed over: names that are not UTF-8, directories past maxDepth, unreadable ones. */
  skipped: ScanSkip[];
  /** More entries than maxEntries: the list is cut. */
  truncated: boolean;
}

/**
 * Lists everything under `root` (lstat only, nothing followed), sorted by name within each
 * directory. Nothing the run left there makes it fail: a name that is not valid UTF-8, a directory
 * deeper than `maxDepth` or one that cannot be read is reported in `skipped`.
 */
export async function scanWorkspace(
  root: string,
  options: { maxEntries: number; maxDepth?: number },
): Promise<WorkspaceScan> {
  const scan: WorkspaceScan = { entries: [], skipped: [], truncated: false };
  const maxDepth = options.maxDepth ?? 32;
  const top = await open(root, DIRECTORY_FLAGS);
  try {
    await walk(top, '', 0);
  } finally {
    await top.close();
  }
  return scan;

  async function walk(dir: FileHandle, prefix: string, depth: number): Promise<void> {
    const names: string[] = [];
    for (const raw of await readdir(entryPath(dir, ''), { encoding: 'buffer' })) {
      try {
        names.push(UTF8.decode(raw));
      } catch {
        scan.skipped.push({ path: prefix + raw.toString('utf8'), reason: 'unreadable_name' });
      }
    }
    names.sort();
    for (const name of names) {
      if (scan.entries.length >= options.maxEntries) {
        scan.truncated = true;
        return;
      }
      const path = prefix + name;
      let stats: Awaited<ReturnType<typeof lstat>>;
      try {
        stats = await lstat(entryPath(dir, name));
      } catch (error) {
        if (errorCode(error) === 'ENOENT') continue;
        scan.skipped.push({ path, reason: 'unreadable' });
        continue;
      }
      // A character device 0:0 is an overlay's whiteout: in a project layer's upper directory it
      // marks a project file the run deleted, which is not there in what the run saw.
      if (stats.isCharacterDevice() && stats.rdev === 0) continue;
      const kind = kindOf(stats);
      scan.entries.push({
        path,
        kind,
        size: kind === 'file' ? stats.size : 0,
        mtimeMs: stats.mtimeMs,
      });
      if (kind !== 'directory') continue;
      if (depth >= maxDepth) {
        scan.skipped.push({ path, reason: 'too_deep' });
        continue;
      }
      let child: FileHandle;
      try {
        child = await open(entryPath(dir, name), DIRECTORY_FLAGS);
      } catch {
        scan.skipped.push({ path, reason: 'unreadable' });
        continue;
      }
      try {
        await walk(child, `${path}/`, depth + 1);
      } finally {
        await child.close();
      }
      if (scan.truncated) return;
    }
  }
}

/**
 * Removes everything inside `root` (not `root` itself), however deep, without following a link
 * and without holding more than two directories open: it goes down one directory at a time and
 * comes back up through `..`, which is safe because no process of the run is alive any more.
 * Directories the run made unreadable are opened up first (needed when the server is not root).
 * Throws when anything cannot be removed; the caller must then not reuse what holds `root`.
 */
export async function emptyWorkspaceTree(root: string): Promise<void> {
  if (process.getuid?.() !== 0) await chmod(root, 0o700);
  let dir = await open(root, DIRECTORY_FLAGS);
  // Names of the directories between root and `dir`, to remove each once it is empty.
  const descent: Buffer[] = [];
  try {
    for (;;) {
      let subdirectory: Buffer | null = null;
      for (const name of await readdir(entryPath(dir, ''), { encoding: 'buffer' })) {
        const path = entryPath(dir, name);
        const stats = await lstat(path);
        if (stats.isDirectory()) {
          subdirectory ??= name;
        } else {
          await unlink(path);
        }
      }
      if (subdirectory) {
        const path = entryPath(dir, subdirectory);
        // chmod follows links, but this is a directory (just lstat'ed) and nothing runs to swap it.
        if (process.getuid?.() !== 0) await chmod(path, 0o700);
        const child = await open(path, DIRECTORY_FLAGS);
        await dir.close();
        dir = child;
        descent.push(subdirectory);
        continue;
      }
      const name = descent.pop();
      if (name === undefined) return;
      const parent = await open(entryPath(dir, '..'), DIRECTORY_FLAGS);
      await dir.close();
      dir = parent;
      await rmdir(entryPath(dir, name));
    }
  } finally {
    await dir.close();
  }
}
