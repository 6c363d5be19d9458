import { randomBytes } from 'node:crypto';
import { link, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './config.ts';

export const OWNER_COOKIE_KEY_FILE = 'owner-cookie.key';

const KEY_BYTES = 32;
const KEY_TEXT = /^[0-9a-f]{64,}$/i;

/**
 * The key that signs owner cookies, kept in the data directory so that cookies outlive a restart:
 * read at start, or made (32 random bytes as hex, mode 0600) when the file is missing. A key file
 * others may read, or one that holds no key, stops the start: replacing it would quietly cut every
 * browser off from its runs. Deleting the file on purpose does exactly that (a new key, new owners).
 */
export async function loadOwnerCookieKey(dataDir: string): Promise<Buffer> {
  const path = join(dataDir, OWNER_COOKIE_KEY_FILE);
  try {
    return await readKey(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await createKey(path);
  return readKey(path);
}

async function readKey(path: string): Promise<Buffer> {
  const info = await stat(path);
  if (!info.isFile()) throw new ConfigError('RUNBOX_DATA_DIR', `${path} is not a file`);
  if ((info.mode & 0o077) !== 0) {
    throw new ConfigError(
      'RUNBOX_DATA_DIR',
      `${path} (the key that signs owner cookies) may be read by others (mode ${(info.mode & 0o777).toString(8)}); make it 600`,
    );
  }
  const text = (await readFile(path, 'utf8')).trim();
  if (!KEY_TEXT.test(text) || text.length % 2 !== 0) {
    throw new ConfigError(
      'RUNBOX_DATA_DIR',
      `${path} must hold a key of at least ${KEY_BYTES} bytes as hex; delete it to make a new one (every anonymous owner is then new)`,
    );
  }
  return Buffer.from(text, 'hex');
}

/** Written beside the target and linked into place: a crash never leaves half a key, and a key another start made first is kept. */
async function createKey(path: string): Promise<void> {
  const partial = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(partial, `${randomBytes(KEY_BYTES).toString('hex')}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  try {
    await link(partial, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await unlink(partial);
  }
}
