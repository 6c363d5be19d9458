import { existsSync } from 'node:fs';
import {
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProjectCache, DigestMismatchError } from './project-cache.ts';
import { packTree } from './tree-bundle.ts';
import { digestTree, InvalidDigestError } from './tree-digest.ts';

const LIMITS = { maxFiles: 100, maxBytes: 1_000_000 };
let base: string;
let cacheDir: string;
/** The "API": trees by digest, and every fetch it was asked for. */
let trees: Map<string, string>;
let fetched: string[];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-cache-'));
  cacheDir = join(base, 'cache');
  trees = new Map();
  fetched = [];
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

/** A project of `size` bytes in one file; returns its digest. */
async function project(name: string, size: number): Promise<string> {
  const dir = join(base, 'projects', name);
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'src', 'main.js'), `// ${name}\n`.padEnd(size, '.'));
  const digest = await digestTree(dir, LIMITS);
  trees.set(digest, dir);
  return digest;
}

async function fetchTree(digest: string): Promise<Readable> {
  fetched.push(digest);
  const dir = trees.get(digest);
  if (dir === undefined) throw new Error(`no tree ${digest}`);
  // A turn of the event loop, so concurrent gets really overlap.
  await new Promise((resolve) => setTimeout(resolve, 10));
  return packTree(dir);
}

const cacheOf = (maxBytes = 1_000_000, fetch = fetchTree) =>
  createProjectCache({ dir: cacheDir, maxBytes, fetch, limits: LIMITS });

describe('the project cache', () => {
  it('fetches a tree once, checks it and keeps it under its digest', async () => {
    const digest = await project('a', 100);
    const cache = cacheOf();
    const first = await cache.get(digest);
    expect(first.dir).toBe(join(cacheDir, digest));
    expect(await digestTree(first.dir, LIMITS)).toBe(digest);
    expect(await readFile(join(first.dir, 'src', 'main.js'), 'utf8')).toMatch(/^\/\/ a\n\.+$/);
    first.release();
    const second = await cache.get(digest);
    expect(second.dir).toBe(first.dir);
    expect(fetched).toEqual([digest]);
    expect(cache.sizeBytes()).toBe(100);
    expect(await readdir(cacheDir)).toEqual([digest]);
  });

  it("keeps a project's links as links, and gives every entry to the owner named", async () => {
    const dir = join(base, 'projects', 'linked');
    await mkdir(join(dir, 'docs'), { recursive: true });
    await writeFile(join(dir, 'AGENTS.md'), 'agents\n');
    await symlink('AGENTS.md', join(dir, 'CLAUDE.md'));
    await symlink('../AGENTS.md', join(dir, 'docs', 'up'));
    const digest = await digestTree(dir, LIMITS);
    trees.set(digest, dir);
    const owner = process.getuid?.() === 0 ? { uid: 64_556, gid: 64_557 } : null;
    const cache = createProjectCache({
      dir: cacheDir,
      maxBytes: 1_000_000,
      fetch: fetchTree,
      limits: LIMITS,
      owner,
    });
    const held = await cache.get(digest);
    expect(await readlink(join(held.dir, 'CLAUDE.md'))).toBe('AGENTS.md');
    expect(await readlink(join(held.dir, 'docs', 'up'))).toBe('../AGENTS.md');
    if (owner)
      for (const path of ['', 'AGENTS.md', 'CLAUDE.md', 'docs', 'docs/up']) {
        const stats = await lstat(join(held.dir, path));
        expect([stats.uid, stats.gid], path).toEqual([owner.uid, owner.gid]);
      }
    held.release();
  });

  it('shares one fetch among concurrent gets of one digest', async () => {
    const digest = await project('a', 100);
    const cache = cacheOf();
    const held = await Promise.all([cache.get(digest), cache.get(digest), cache.get(digest)]);
    expect(new Set(held.map((h) => h.dir)).size).toBe(1);
    expect(fetched).toEqual([digest]);
  });

  it('refuses a tree whose digest is not the one asked for, and keeps nothing of it', async () => {
    const real = await project('a', 100);
    const claimed = `sha256-${'0'.repeat(64)}`;
    trees.set(claimed, trees.get(real) as string);
    const cache = cacheOf();
    const error = await cache.get(claimed).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error).toMatchObject({ expected: claimed, actual: real });
    expect(await readdir(cacheDir)).toEqual([]);
    expect(cache.sizeBytes()).toBe(0);
  });

  it('checks a digest before it touches the disk or fetches', async () => {
    const cache = cacheOf();
    for (const bad of ['../etc', `sha256-${'a'.repeat(63)}`, `sha256-${'A'.repeat(64)}`]) {
      await expect(cache.get(bad)).rejects.toBeInstanceOf(InvalidDigestError);
    }
    expect(fetched).toEqual([]);
    expect(existsSync(cacheDir)).toBe(false);
  });

  it('tries again after a failed fetch', async () => {
    const digest = await project('a', 100);
    let fail = true;
    const cache = cacheOf(1_000_000, async (wanted) => {
      if (fail) {
        fail = false;
        throw new Error('API down');
      }
      return fetchTree(wanted);
    });
    await expect(cache.get(digest)).rejects.toThrow('API down');
    const held = await cache.get(digest);
    expect(await digestTree(held.dir, LIMITS)).toBe(digest);
  });

  it('evicts the least recently used trees nobody holds, never a held one', async () => {
    const a = await project('a', 400);
    const b = await project('b', 400);
    const c = await project('c', 400);
    const cache = cacheOf(1000);
    (await cache.get(a)).release();
    const heldB = await cache.get(b);
    // a is used again: b (held) and c are newer, but a is the least recently used nobody holds.
    (await cache.get(a)).release();
    const heldC = await cache.get(c);
    await cache.idle();
    // 1200 bytes, over 1000: a goes, since b and c are held.
    expect((await readdir(cacheDir)).sort()).toEqual([b, c].sort());
    expect(cache.sizeBytes()).toBe(800);
    heldB.release();
    heldB.release(); // a second release does nothing more
    await cache.idle();
    // Released, but within maxBytes: kept.
    expect((await readdir(cacheDir)).sort()).toEqual([b, c].sort());
    expect(cache.sizeBytes()).toBe(800);
    // An evicted tree comes back by fetching it again.
    const again = await cache.get(a);
    await cache.idle();
    expect(await digestTree(again.dir, LIMITS)).toBe(a);
    expect(fetched.filter((d) => d === a)).toHaveLength(2);
    // a and c are held now; b (released) went to make room.
    expect((await readdir(cacheDir)).sort()).toEqual([a, c].sort());
    heldC.release();
    again.release();
  });

  it('removes what an earlier process left under its names, and nothing else', async () => {
    await mkdir(join(cacheDir, `sha256-${'1'.repeat(64)}`), { recursive: true });
    await mkdir(join(cacheDir, '.incoming-123'));
    await mkdir(join(cacheDir, '.evicted-456'));
    await writeFile(join(cacheDir, 'not-ours'), 'keep');
    const digest = await project('a', 10);
    await cacheOf().get(digest);
    expect((await readdir(cacheDir)).sort()).toEqual([digest, 'not-ours'].sort());
  });
});
