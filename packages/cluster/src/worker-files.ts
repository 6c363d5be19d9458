import { createProjectCache, fetchProjectBundle, uploadArtifacts } from './files/index.ts';
import type { ProjectFiles } from './run-worker.ts';

/** A worker's cache of project trees beyond which the least recently used go. */
const PROJECT_CACHE_BYTES = 2 * 1024 * 1024 * 1024;

/**
 * A worker's way to the files of runs: projects fetched from the API by digest and cached here,
 * a run's kept files sent back. Both authenticate with the worker token.
 */
export function createWorkerFiles(options: {
  url: string;
  token: string;
  cacheDir: string;
  /** Whom the cached projects belong to: the sandbox user (see ProjectCacheOptions.owner). */
  owner?: { uid: number; gid: number } | null | undefined;
}): {
  projects: ProjectFiles;
  uploadArtifacts(runId: string, dir: string): Promise<void>;
} {
  const cache = createProjectCache({
    dir: options.cacheDir,
    maxBytes: PROJECT_CACHE_BYTES,
    fetch: (digest) => fetchProjectBundle({ apiUrl: options.url, token: options.token, digest }),
    owner: options.owner,
  });
  return {
    projects: { get: (digest) => cache.get(digest) },
    uploadArtifacts: (runId, dir) =>
      uploadArtifacts({ apiUrl: options.url, token: options.token, runId, dir }),
  };
}
