import { constants } from 'node:fs';
import { chmod, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { UploadRejectedError } from './upload-errors.ts';

/**
 * Writes an upload's files under a directory the caller has just created for it. Every directory
 * below the root is created here (never reused), files are created with O_EXCL | O_NOFOLLOW, so
 * nothing that already exists (or a link) is ever written through. Modes are fixed: 0755 for
 * directories, 0644 for files (no setuid, setgid, sticky or execute bits); times are the host's.
 */

export const DIRECTORY_MODE = 0o755;
export const FILE_MODE = 0o644;

const CREATE_FLAGS =
  constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

export class ProjectTreeWriter {
  readonly root: string;
  /** Directories created so far, as normalised relative paths ('' is the root). */
  readonly #created = new Set<string>(['']);

  constructor(root: string) {
    this.root = root;
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
    } finally {
      await handle.close();
    }
    return written;
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
