import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { unpackTree } from './tree-bundle.ts';
import {
  assertTreeDigest,
  DEFAULT_TREE_LIMITS,
  isTreeDigest,
  summarizeTree,
  type TreeLimits,
} from './tree-digest.ts';

/**
 * A worker's copies of project trees, by digest. A tree is fetched once, unpacked beside the
 * others, checked against its digest and only then renamed into `<dir>/<digest>`: a name there is
 * always a whole, verified tree. Trees nobody holds go, least recently used first, once the cache
 * holds more than maxBytes.
 */

const TEMP_PREFIX = '.incoming-';
const EVICTED_PREFIX = '.evicted-';

export interface ProjectCacheOptions {
  /** The cache's directory, created (0700) if missing. One process's alone: see createProjectCache. */
  dir: string;
  /**
   * Bytes of files (not disk blocks) kept in trees nobody holds. Held trees are never evicted, so
   * the cache can be larger while they are in use.
   */
  maxBytes: number;
  /** The tree's bundle (packTree's tar), from wherever trees come from: the API. */
  fetch: (digest: string) => Promise<Readable>;
  /** What one bundle may hold. Default DEFAULT_TREE_LIMITS. */
  limits?: TreeLimits | undefined;
  /**
   * Host user and group every tree is given: the sandbox user, so that runs see a project
   * through a layer instead of a copy (the executor's project-layer.ts). Default the process's.
   */
  owner?: { uid: number; gid: number } | null | undefined;
}

export interface HeldProject {
  /** The tree, on this machine. Read only: others may hold the same one. */
  dir: string;
  /** Lets the tree be evicted again. Calling it more than once does nothing more. */
  release(): void;
}

export interface ProjectCache {
  /** The tree with that digest, held until released; fetched and checked on a miss. */
  get(digest: string): Promise<HeldProject>;
  /** Bytes of files in the trees cached now. */
  sizeBytes(): number;
  /** Resolves once evicted trees are off the disk. */
  idle(): Promise<void>;
}

/** A fetched tree whose digest is not the one it was fetched by; it is not kept. */
export class DigestMismatchError extends Error {
  readonly code = 'TREE_DIGEST_MISMATCH';
  readonly expected: string;
  readonly actual: string;
  constructor(expected: string, actual: string) {
    super(`the tree fetched for ${expected} has the digest ${actual}; it was not kept`);
    this.name = 'DigestMismatchError';
    this.expected = expected;
    this.actual = actual;
  }
}

interface Entry {
  state: 'loading' | 'ready' | 'evicting';
  /** Settles when the tree is in place (or failed); when evicting, when its name is free. */
  settled: Promise<void>;
  holds: number;
  bytes: number;
}

/**
 * The cache. At the first get, whatever an earlier process left in `dir` under the cache's own
 * names (trees, half-fetched and half-evicted ones) is removed: sizes and use order are not
 * known across restarts, and a crash can leave a partial tree. So two processes must not share
 * a `dir`.
 */
export function createProjectCache(options: ProjectCacheOptions): ProjectCache {
  const { dir, maxBytes, fetch } = options;
  const limits = options.limits ?? DEFAULT_TREE_LIMITS;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
    throw new RangeError(`maxBytes must be a whole number >= 0, got ${String(maxBytes)}`);
  }
  // Least recently used first: a Map keeps insertion order, and every use re-inserts.
  const entries = new Map<string, Entry>();
  const removals = new Set<Promise<void>>();
  let started: Promise<void> | null = null;

  const start = async (): Promise<void> => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    for (const name of await readdir(dir)) {
      if (isTreeDigest(name) || name.startsWith(TEMP_PREFIX) || name.startsWith(EVICTED_PREFIX)) {
        await rm(join(dir, name), { recursive: true, force: true });
      }
    }
  };

  const touch = (digest: string, entry: Entry): void => {
    entries.delete(digest);
    entries.set(digest, entry);
  };

  const cachedBytes = (): number => {
    let total = 0;
    for (const entry of entries.values()) if (entry.state === 'ready') total += entry.bytes;
    return total;
  };

  const evict = (): void => {
    let total = cachedBytes();
    for (const [digest, entry] of entries) {
      if (total <= maxBytes) return;
      if (entry.state !== 'ready' || entry.holds > 0) continue;
      total -= entry.bytes;
      entry.state = 'evicting';
      const gone = join(dir, `${EVICTED_PREFIX}${randomUUID()}`);
      // The rename frees the digest's name at once, so a get that comes meanwhile fetches anew
      // without waiting for a large tree to be deleted.
      entry.settled = rename(join(dir, digest), gone)
        .catch(() => {
          // The tree stays under its name; the next load of this digest removes it first.
        })
        .finally(() => {
          if (entries.get(digest) === entry) entries.delete(digest);
        });
      const removal = entry.settled
        .then(() => rm(gone, { recursive: true, force: true }))
        .catch(() => {
          // Left for the next start, which removes every `.evicted-` directory.
        })
        .finally(() => removals.delete(removal));
      removals.add(removal);
    }
  };

  const load = async (digest: string, entry: Entry): Promise<void> => {
    const incoming = join(dir, `${TEMP_PREFIX}${randomUUID()}`);
    try {
      const bundle = await fetch(digest);
      try {
        // A project keeps its links (those that stay inside it), as it was uploaded.
        await unpackTree(bundle, incoming, limits, { links: true, owner: options.owner });
      } finally {
        // A refused bundle is not read to its end: let the connection go now.
        bundle.destroy();
      }
      const summary = await summarizeTree(incoming, limits);
      if (summary.digest !== digest) throw new DigestMismatchError(digest, summary.digest);
      const target = join(dir, digest);
      // Only a tree whose eviction could not rename it can be there; nothing holds it.
      await rm(target, { recursive: true, force: true });
      await rename(incoming, target);
      entry.bytes = summary.bytes;
      entry.state = 'ready';
    } catch (error) {
      if (entries.get(digest) === entry) entries.delete(digest);
      await rm(incoming, { recursive: true, force: true });
      throw error;
    }
  };

  const hold = (digest: string, entry: Entry): HeldProject => {
    let released = false;
    return {
      dir: join(dir, digest),
      release: () => {
        if (released) return;
        released = true;
        entry.holds -= 1;
        if (entries.get(digest) === entry) touch(digest, entry);
        evict();
      },
    };
  };

  return {
    async get(digest) {
      // Before the digest becomes a path.
      assertTreeDigest(digest);
      started ??= start().catch((error: unknown) => {
        started = null;
        throw error;
      });
      await started;
      for (;;) {
        const known = entries.get(digest);
        if (known?.state === 'evicting') {
          await known.settled;
          continue;
        }
        let entry = known;
        if (entry === undefined) {
          const created: Entry = {
            state: 'loading',
            settled: Promise.resolve(),
            holds: 0,
            bytes: 0,
          };
          // In the map before the load starts: a load that fails at once takes it out again.
          entries.set(digest, created);
          created.settled = load(digest, created);
          entry = created;
        }
        // Held from now, so the eviction after the load cannot take it from under its waiters.
        entry.holds += 1;
        touch(digest, entry);
        try {
          await entry.settled;
        } catch (error) {
          entry.holds -= 1;
          throw error;
        }
        evict();
        return hold(digest, entry);
      }
    },
    sizeBytes: cachedBytes,
    async idle() {
      while (removals.size > 0) await Promise.all(removals);
    },
  };
}
