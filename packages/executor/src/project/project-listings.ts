import { lstat } from 'node:fs/promises';
import { ProjectTooLargeError, scanProject, type ProjectScan } from '../tools/copy-project.ts';

/**
 * What a project holds, listed once per process and kept: the check at create and every run of
 * the project after it read the list instead of walking the project again, so that neither grows
 * with the project's size. A stored project never changes (an upload is renamed into place
 * whole; a worker's copy is named by its digest), so the list is kept for as long as the
 * project's root is the same directory: same device, inode and change times. A project changed
 * in place below its root is not noticed; nothing in runbox does that.
 */

/** Entries kept over all cached listings; the least recently used go first. */
const MAX_CACHED_ENTRIES = 100_000;

interface Cached {
  identity: string;
  scan: Promise<ProjectScan>;
  entries: number;
}

const cache = new Map<string, Cached>();

function entriesOf(scan: ProjectScan): number {
  return scan.entries.size;
}

function evict(): void {
  let total = 0;
  for (const cached of cache.values()) total += cached.entries;
  for (const [root, cached] of cache) {
    if (total <= MAX_CACHED_ENTRIES) return;
    total -= cached.entries;
    cache.delete(root);
  }
}

/**
 * The project at `root` as scanProject lists it (no link followed, at most 10,000 entries and 32
 * levels), without its size checked against any workspace: see fitWorkspace.
 */
export async function listProject(root: string): Promise<ProjectScan> {
  let identity: string;
  try {
    const stats = await lstat(root);
    identity = `${stats.dev}:${stats.ino}:${stats.ctimeMs}:${stats.mtimeMs}:${stats.uid}`;
  } catch {
    // scanProject says what is wrong with the root, in its own words.
    return scanProject(root, { maxBytes: Number.POSITIVE_INFINITY });
  }
  const known = cache.get(root);
  if (known?.identity === identity) {
    cache.delete(root);
    cache.set(root, known);
    return known.scan;
  }
  const cached: Cached = {
    identity,
    scan: scanProject(root, { maxBytes: Number.POSITIVE_INFINITY }),
    entries: 0,
  };
  cache.set(root, cached);
  try {
    const scan = await cached.scan;
    cached.entries = entriesOf(scan);
    evict();
    return scan;
  } catch (error) {
    if (cache.get(root) === cached) cache.delete(root);
    throw error;
  }
}

/** Throws ProjectTooLargeError when the project's files would not fit a workspace of maxBytes. */
export function fitWorkspace(scan: ProjectScan, maxBytes: number): ProjectScan {
  if (scan.workspaceBytes > maxBytes)
    throw new ProjectTooLargeError({ limit: 'bytes', value: scan.workspaceBytes, max: maxBytes });
  return scan;
}

/** Forgets every listing (for tests). */
export function forgetProjectListings(): void {
  cache.clear();
}
