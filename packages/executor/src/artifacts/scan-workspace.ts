import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkspaceEntry, WorkspaceEntryKind } from '../sandbox/safe-fs.ts';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export interface WorkspaceScan {
  entries: WorkspaceEntry[];
  /** Names that are not valid UTF-8 (shown with replacement characters); never opened. */
  unreadableNames: string[];
  truncated: boolean;
}

function kindOf(stats: Awaited<ReturnType<typeof lstat>>): WorkspaceEntryKind {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isDirectory()) return 'directory';
  if (stats.isFile()) return 'file';
  return 'other';
}

/**
 * The workspace after a run, listed like listWorkspace (lstat only, links never followed) but
 * proof against names the run chose: a name that is not valid UTF-8 cannot be passed back to the
 * filesystem as a string, so it is reported instead of failing the whole listing.
 */
export async function scanWorkspace(
  root: string,
  options: { maxEntries: number; maxDepth?: number },
): Promise<WorkspaceScan> {
  const entries: WorkspaceEntry[] = [];
  const unreadableNames: string[] = [];
  const maxDepth = options.maxDepth ?? 32;
  let truncated = false;

  async function walk(dir: string, prefix: string, depth: number): Promise<void> {
    const names: string[] = [];
    for (const raw of await readdir(dir, { encoding: 'buffer' })) {
      try {
        names.push(UTF8.decode(raw));
      } catch {
        unreadableNames.push(prefix + raw.toString('utf8'));
      }
    }
    names.sort();
    for (const name of names) {
      if (entries.length >= options.maxEntries) {
        truncated = true;
        return;
      }
      const full = join(dir, name);
      let stats: Awaited<ReturnType<typeof lstat>>;
      try {
        stats = await lstat(full);
      } catch (error) {
        if (error instanceof Error && 'code' in error && error.code === 'ENOENT') continue;
        throw error;
      }
      const kind = kindOf(stats);
      const path = prefix + name;
      entries.push({ path, kind, size: kind === 'file' ? stats.size : 0, mtimeMs: stats.mtimeMs });
      if (kind === 'directory') {
        if (depth >= maxDepth) {
          truncated = true;
          continue;
        }
        await walk(full, `${path}/`, depth + 1);
      }
    }
  }

  await walk(root, '', 0);
  return { entries, unreadableNames, truncated };
}
