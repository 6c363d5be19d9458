import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './config.ts';
import { loadOwnerCookieKey, OWNER_COOKIE_KEY_FILE } from './owner-cookie-key.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbox-cookie-key-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('owner cookie key', () => {
  it('is made once, readable by the owner only, and read back the same at the next start', async () => {
    const key = await loadOwnerCookieKey(dir);
    expect(key).toHaveLength(32);
    const path = join(dir, OWNER_COOKIE_KEY_FILE);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await readFile(path, 'utf8')).trim()).toBe(key.toString('hex'));
    expect((await loadOwnerCookieKey(dir)).equals(key)).toBe(true);
  });

  it('two starts at once end with one key', async () => {
    const keys = await Promise.all([loadOwnerCookieKey(dir), loadOwnerCookieKey(dir)]);
    expect(keys[0]?.equals(keys[1] ?? Buffer.alloc(0))).toBe(true);
  });

  it('refuses a key file others may read, and one that holds no key, without replacing it', async () => {
    const path = join(dir, OWNER_COOKIE_KEY_FILE);
    await loadOwnerCookieKey(dir);
    await chmod(path, 0o644);
    await expect(loadOwnerCookieKey(dir)).rejects.toThrow(
      /owner-cookie\.key \(the key that signs owner cookies\) may be read by others \(mode 644\); make it 600/,
    );
    await writeFile(path, 'not a key\n', { mode: 0o600 });
    await chmod(path, 0o600);
    const error: unknown = await loadOwnerCookieKey(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variable).toBe('RUNBOX_DATA_DIR');
    expect((error as Error).message).toMatch(/must hold a key of at least 32 bytes as hex/);
    expect(await readFile(path, 'utf8')).toBe('not a key\n');
  });
});
