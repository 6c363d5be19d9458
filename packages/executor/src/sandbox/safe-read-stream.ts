import { constants, type ReadStream } from 'node:fs';
import { lstat, open, readlink, type FileHandle } from 'node:fs/promises';
import { UnsafeWorkspacePathError } from './safe-fs.ts';

/**
 * Race-free reads inside a directory a run has written, for the host. Node has no openat(), so
 * each directory on the way is opened with O_DIRECTORY | O_NOFOLLOW through the one before it
 * (`/proc/self/fd/<parent>/<name>`): a link anywhere on the path fails the walk with ELOOP, and a
 * name swapped after a check can only ever resolve inside the directory already held open.
 */

function pathParts(relativePath: string): string[] {
  const parts = relativePath.split('/');
  if (parts.some((part) => part === '' || part === '.' || part === '..' || part.includes('\0'))) {
    throw new UnsafeWorkspacePathError(relativePath, 'not a plain relative path');
  }
  return parts;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** Opens the directory that holds the last part of the path; the caller closes it. */
async function openParentDirectory(
  root: string,
  relativePath: string,
): Promise<{ dir: FileHandle; name: string }> {
  const parts = pathParts(relativePath);
  const name = parts.pop() as string;
  let dir = await open(root, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const part of parts) {
      let next: FileHandle;
      try {
        next = await open(
          `/proc/self/fd/${dir.fd}/${part}`,
          constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW,
        );
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ELOOP') throw new UnsafeWorkspacePathError(relativePath, 'a symbolic link');
        if (code === 'ENOTDIR') throw new UnsafeWorkspacePathError(relativePath, 'not a directory');
        throw error;
      }
      await dir.close();
      dir = next;
    }
  } catch (error) {
    await dir.close();
    throw error;
  }
  return { dir, name };
}

export interface WorkspaceReadStream {
  /** The file's bytes; it closes the file when it ends or is destroyed. */
  stream: ReadStream;
  /** The size of the open file. */
  size: number;
}

/**
 * Opens a regular file under `root` for streaming, without following a link anywhere on the path.
 * Fails with UnsafeWorkspacePathError for a link, a FIFO, a socket or a device (none is ever
 * opened), and with the usual ENOENT when nothing is there. A caller that stops reading early
 * destroys the stream.
 */
export async function openWorkspaceReadStream(
  root: string,
  relativePath: string,
): Promise<WorkspaceReadStream> {
  const { dir, name } = await openParentDirectory(root, relativePath);
  let file: FileHandle;
  try {
    const path = `/proc/self/fd/${dir.fd}/${name}`;
    const before = await lstat(path);
    if (before.isSymbolicLink())
      throw new UnsafeWorkspacePathError(relativePath, 'a symbolic link');
    if (!before.isFile()) throw new UnsafeWorkspacePathError(relativePath, 'not a regular file');
    file = await open(
      path,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY,
    ).catch((error: unknown) => {
      if (errorCode(error) === 'ELOOP')
        throw new UnsafeWorkspacePathError(relativePath, 'a symbolic link');
      throw error;
    });
  } finally {
    await dir.close();
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw new UnsafeWorkspacePathError(relativePath, 'not a regular file');
    const stream = file.createReadStream(stats.size > 0 ? { start: 0, end: stats.size - 1 } : {});
    return { stream, size: stats.size };
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** The target text of a symbolic link under `root`; the link itself is never followed. */
export async function readWorkspaceLink(root: string, relativePath: string): Promise<string> {
  const { dir, name } = await openParentDirectory(root, relativePath);
  try {
    return await readlink(`/proc/self/fd/${dir.fd}/${name}`).catch((error: unknown) => {
      if (errorCode(error) === 'EINVAL')
        throw new UnsafeWorkspacePathError(relativePath, 'not a symbolic link');
      throw error;
    });
  } finally {
    await dir.close();
  }
}
