import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TEMP_DIR_PREFIX } from './store-upload.ts';

/**
 * Removes temporary upload directories left in projectsRoot by a process that died mid-upload
 * (storeUpload removes its own on every failure it survives). Only directories whose names start
 * with TEMP_DIR_PREFIX and that were last modified more than `olderThanMs` ago are touched; run
 * it at server start. Returns the names removed.
 */
export async function removeStaleUploadDirs(
  projectsRoot: string,
  options: { olderThanMs: number; now?: number },
): Promise<string[]> {
  const now = options.now ?? Date.now();
  const removed: string[] = [];
  for (const name of await readdir(projectsRoot)) {
    if (!name.startsWith(TEMP_DIR_PREFIX)) continue;
    const path = join(projectsRoot, name);
    const stats = await lstat(path);
    if (!stats.isDirectory() || now - stats.mtimeMs < options.olderThanMs) continue;
    await rm(path, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}
