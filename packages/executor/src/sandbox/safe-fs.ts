import { constants } from 'node:fs';
import { open, lstat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Host-side access to a workspace a run has written. Every path inside it may be a link planted
 * by the run, so nothing here follows a symlink: entries are lstat'ed, and files are opened with
 * O_NOFOLLOW, so a link swapped in between the check and the open fails instead of escaping.
 */

export type WorkspaceEntryKind = 'file' | 'directory' | 'symlink' | 'other';

export interface WorkspaceEntry {
  /** Path relative to the workspace, with forward slashes. */
  path: string;
  kind: WorkspaceEntryKind;
  size: number;
  mtimeMs: number;
}

export class UnsafeWorkspacePathError extends Error {
  readonly code = 'UNSAFE_WORKSPACE_PATH';
  readonly path: string;
  constructor(path: string, reason: string) {
    super(`refusing ${JSON.stringify(path)} in the workspace: ${reason}`);
    this.name = 'UnsafeWorkspacePathError';
    this.path = path;
  }
}

/**
 * Reads at most `maxBytes` of a regular file inside the workspace. Every directory on the way and
 * the file itself are checked with lstat, and the final open uses O_NOFOLLOW.
 */
export async function readWorkspaceFile(
  root: string,
  relativePath: string,
  maxBytes: number,
): Promise<Buffer> {
  const parts = relativePath.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..')) {
    throw new UnsafeWorkspacePathError(relativePath, 'not a plain relative path');
  }
  let current = root;
  for (const [index, part] of parts.entries()) {
    current = join(current, part);
    const stats = await lstat(current);
    if (stats.isSymbolicLink()) throw new UnsafeWorkspacePathError(relativePath, 'a symbolic link');
    const last = index === parts.length - 1;
    if (!last && !stats.isDirectory())
      throw new UnsafeWorkspacePathError(relativePath, 'not a directory');
    if (last && !stats.isFile())
      throw new UnsafeWorkspacePathError(relativePath, 'not a regular file');
  }
  const handle = await open(
    current,
    constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
  );
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new UnsafeWorkspacePathError(relativePath, 'not a regular file');
    const length = Math.min(stats.size, maxBytes);
    const buffer = Buffer.alloc(length);
    let offset = 0;
    while (offset < length) {
      const { bytesRead } = await handle.read(buffer, offset, length - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return buffer.subarray(0, offset);
  } finally {
    await handle.close();
  }
}

/** Writes a new file into the workspace; fails if anything already stands at that path. */
export async function writeNewWorkspaceFile(
  root: string,
  name: string,
  content: string | Buffer,
  owner: { uid: number; gid: number } | null,
): Promise<string> {
  if (name.includes('/') || name === '.' || name === '..') {
    throw new UnsafeWorkspacePathError(name, 'must be a plain file name');
  }
  const path = join(root, name);
  const handle = await open(
    path,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    await handle.writeFile(content);
    if (owner) await handle.chown(owner.uid, owner.gid);
  } finally {
    await handle.close();
  }
  return path;
}
