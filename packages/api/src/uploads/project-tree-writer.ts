import { constants } from 'node:fs';
import { chmod, chown, lchown, mkdir, open, symlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { UploadRejectedError } from './upload-errors.ts';

/**
 * Writes an upload's files under a directory the caller has just created for it. Every directory
 * below the root is created here (never reused), files are created with O_EXCL | O_NOFOLLOW, so
 * nothing that already exists (or a link) is ever written through; a link is made with
 * symlink(2), which never follows one either. Modes are fixed: 0755 for directories, 0644 for
 * files (no setuid, setgid, sticky or execute bits); times are the host's. With an `owner` (the
 * sandbox user), every entry is given to it, so that a run can see the project through a layer
 * and change it there as its own (the executor's project-layer.ts); the root is the caller's.
 */

export const DIRECTORY_MODE = 0o755;
export const FILE_MODE = 0o644;

const COPY_CHUNK_BYTES = 64 * 1024;
const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export class ProjectTreeWriter {
  readonly root: string;
  readonly #owner: { uid: number; gid: number } | null;
  /** Directories created so far, as normalised relative paths ('' is the root). */
  readonly #created = new Set<string>(['']);

  constructor(root: string, owner: { uid: number; gid: number } | null = null) {
    this.root = root;
    this.#owner = owner;
  }

  /** Creates the directory and any missing parents. `path` is a normalised entry path. */
  async directory(path: string): Promise<void> {
    const components = path.split('/');
    for (let depth = 1; depth <= components.length; depth += 1) {
      const relative = components.slice(0, depth).join('/');
      if (this.#created.has(relative)) continue;
      const full = join(this.root, ...components.slice(0, depth));
      try {
        await mkdir(full, { mode: DIRECTORY_MODE });
      } catch (error) {
        throw collisionOnExists(error, path);
      }
      await chmod(full, DIRECTORY_MODE);
      if (this.#owner) await chown(full, this.#owner.uid, this.#owner.gid);
      this.#created.add(relative);
    }
  }

  /**
   * Creates a new file and writes `content` into it; returns the bytes written. If `content` is
   * a stream and it throws (a limit broken while inflating), the error passes through unchanged.
   */
  async file(path: string, content: Uint8Array | AsyncIterable<Uint8Array>): Promise<number> {
    const slash = path.lastIndexOf('/');
    if (slash > 0) await this.directory(path.slice(0, slash));
    let handle;
    try {
      handle = await open(join(this.root, ...path.split('/')), CREATE_FLAGS, FILE_MODE);
    } catch (error) {
      throw collisionOnExists(error, path);
    }
    let written = 0;
    try {
      const chunks = content instanceof Uint8Array ? [content] : content;
      for await (const chunk of chunks) {
        let offset = 0;
        while (offset < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, offset, chunk.length - offset);
          offset += bytesWritten;
        }
        written += chunk.length;
      }
      await handle.chmod(FILE_MODE);
      if (this.#owner) await handle.chown(this.#owner.uid, this.#owner.gid);
    } finally {
      await handle.close();
    }
    return written;
  }

  /** Creates a symbolic link; its target is the caller's to have checked (it is never followed). */
  async symlink(path: string, target: string): Promise<void> {
    const slash = path.lastIndexOf('/');
    if (slash > 0) await this.directory(path.slice(0, slash));
    const full = join(this.root, ...path.split('/'));
    try {
      await symlink(target, full);
    } catch (error) {
      throw collisionOnExists(error, path);
    }
    if (this.#owner) await lchown(full, this.#owner.uid, this.#owner.gid);
  }

  /**
   * Creates `path` as a copy of the file this writer wrote at `from` (a hard link of the upload):
   * read with O_NOFOLLOW from inside the root. Returns the bytes copied.
   */
  async copy(path: string, from: string): Promise<number> {
    const source = await open(
      join(this.root, ...from.split('/')),
      constants.O_RDONLY | constants.O_NOFOLLOW,
    );
    try {
      return await this.file(path, chunksOf(source));
    } finally {
      await source.close();
    }
  }
}

async function* chunksOf(handle: FileHandle): AsyncGenerator<Uint8Array> {
  const buffer = Buffer.alloc(COPY_CHUNK_BYTES);
  for (;;) {
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
    if (bytesRead === 0) return;
    yield Buffer.from(buffer.subarray(0, bytesRead));
  }
}

/**
 * Something already at a path the upload creates: only possible if two entries map to one name
 * on this filesystem in a way the collision checker did not foresee. It is still the upload's
 * fault, so it is answered as a name collision.
 */
function collisionOnExists(error: unknown, path: string): unknown {
  if (error instanceof Error && 'code' in error && error.code === 'EEXIST') {
    return new UploadRejectedError({
      rule: 'name-collision',
      entry: path,
      detail: 'the path is already taken by another entry on this filesystem',
    });
  }
  return error;
}
