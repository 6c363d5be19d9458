import type { WorkspaceEntryKind } from '../sandbox/safe-fs.ts';
import { scanWorkspace } from '../sandbox/workspace-tree.ts';

export interface SnapshotEntry {
  kind: WorkspaceEntryKind;
  size: number;
  mtimeMs: number;
}

/** The workspace as it was before a run: path (relative, with forward slashes) to what stood there. */
export interface WorkspaceSnapshot {
  readonly entries: ReadonlyMap<string, SnapshotEntry>;
  /** The workspace held more than the entries cap: anything not seen counts as created. */
  readonly truncated: boolean;
}

export const EMPTY_SNAPSHOT: WorkspaceSnapshot = { entries: new Map(), truncated: false };

/**
 * Lists the workspace before the run starts (nothing is followed), so that collectArtifacts can
 * tell the files the run created or changed from the ones it was given.
 */
export async function snapshotWorkspace(
  dir: string,
  options: { maxEntries?: number } = {},
): Promise<WorkspaceSnapshot> {
  const { entries, truncated } = await scanWorkspace(dir, {
    maxEntries: options.maxEntries ?? 100_000,
  });
  return {
    entries: new Map(
      entries.map((entry) => [
        entry.path,
        { kind: entry.kind, size: entry.size, mtimeMs: entry.mtimeMs },
      ]),
    ),
    truncated,
  };
}

/** True when the entry was not there before the run, or is not what it was. */
export function isCreatedOrChanged(
  snapshot: WorkspaceSnapshot,
  entry: SnapshotEntry & { path: string },
): boolean {
  const before = snapshot.entries.get(entry.path);
  return (
    before === undefined ||
    before.kind !== entry.kind ||
    before.size !== entry.size ||
    before.mtimeMs !== entry.mtimeMs
  );
}
