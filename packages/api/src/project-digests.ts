import { resolve } from 'node:path';
import { DEFAULT_TREE_LIMITS, digestTree, type TreeLimits } from '@runbox/cluster';

/**
 * Projects by content digest, for workers that fetch a project by what it holds rather than by
 * where the API keeps it. A stored project (and an example) never changes once it is in place,
 * so a directory's digest is computed once and kept.
 */

export interface ProjectDigests {
  /** The digest of the tree at `dir` (computed once per directory; concurrent calls share it). */
  digestOf(dir: string): Promise<string>;
  /** A directory whose digest is `digest`, among those digestOf has seen. */
  dirOf(digest: string): string | undefined;
  /** Drops what is known of `dir` (a project that was removed). */
  forget(dir: string): void;
}

export interface ProjectDigestsOptions {
  /** Bounds of a tree digested. Default DEFAULT_TREE_LIMITS of @runbox/cluster. */
  limits?: TreeLimits | undefined;
}

export function createProjectDigests(options: ProjectDigestsOptions = {}): ProjectDigests {
  const limits = options.limits ?? DEFAULT_TREE_LIMITS;
  const byDir = new Map<string, Promise<string>>();
  // Identical projects share a digest: any of their directories serves it.
  const byDigest = new Map<string, Set<string>>();

  return {
    digestOf(dir) {
      const key = resolve(dir);
      const known = byDir.get(key);
      if (known) return known;
      const computing = digestTree(key, limits).then(
        (digest) => {
          // Forgotten while it was computed: nothing to record.
          if (byDir.get(key) !== computing) return digest;
          const dirs = byDigest.get(digest) ?? new Set<string>();
          dirs.add(key);
          byDigest.set(digest, dirs);
          return digest;
        },
        (error: unknown) => {
          // Not kept: the next call tries again.
          if (byDir.get(key) === computing) byDir.delete(key);
          throw error;
        },
      );
      byDir.set(key, computing);
      return computing;
    },
    dirOf(digest) {
      const dirs = byDigest.get(digest);
      return dirs === undefined ? undefined : dirs.values().next().value;
    },
    forget(dir) {
      const key = resolve(dir);
      byDir.delete(key);
      for (const [digest, dirs] of byDigest) {
        dirs.delete(key);
        if (dirs.size === 0) byDigest.delete(digest);
      }
    },
  };
}
