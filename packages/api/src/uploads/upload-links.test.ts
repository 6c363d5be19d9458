import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeUpload, type StoredUpload, type UploadSource } from './store-upload.ts';
import { buildTar, buildTarGz, type TarTestEntry } from './test-support/build-tar.ts';
import { buildZip, type ZipTestEntry } from './test-support/build-zip.ts';
import {
  expectRejected,
  makeProjectsRoot,
  removeProjectsRoot,
} from './test-support/expect-rejected.ts';

/**
 * Links in uploads: a relative symbolic link whose target stays inside the project is kept as a
 * link (never followed by the host), a hard link becomes a copy, and a link that leaves the
 * project, or is absolute, is left out with a warning while the upload goes on.
 */

const text = (value: string): Buffer => Buffer.from(value, 'utf8');
const LINK_MODE = 0o120777;

let root: string;
beforeEach(async () => {
  root = await makeProjectsRoot();
});
afterEach(async () => {
  await removeProjectsRoot(root);
});

async function store(
  source: UploadSource,
  owner?: { uid: number; gid: number },
): Promise<StoredUpload> {
  return storeUpload({ source, projectsRoot: root, projectId: 'p1', owner });
}

const tar = async (entries: TarTestEntry[]): Promise<UploadSource> => ({
  kind: 'archive',
  bytes: await buildTar(entries),
});
const zip = (entries: ZipTestEntry[]): UploadSource => ({
  kind: 'archive',
  bytes: buildZip(entries),
});

describe('symbolic links in a tar', () => {
  it('keeps a link whose target stays inside as a link, and says so', async () => {
    const result = await store(
      await tar([
        { name: 'AGENTS.md', data: text('agents\n') },
        { name: 'CLAUDE.md', type: 'symlink', linkname: 'AGENTS.md' },
        { name: 'docs/', type: 'directory' },
        { name: 'docs/up', type: 'symlink', linkname: '../AGENTS.md' },
        { name: 'dangling', type: 'symlink', linkname: 'not-there' },
      ]),
    );
    expect(result.links).toEqual([
      { path: 'CLAUDE.md', target: 'AGENTS.md' },
      { path: 'dangling', target: 'not-there' },
      { path: 'docs/up', target: '../AGENTS.md' },
    ]);
    expect(result.warnings).toEqual([]);
    expect(result.files).toEqual([{ path: 'AGENTS.md', size: 7 }]);
    expect(await readlink(join(result.dir, 'CLAUDE.md'))).toBe('AGENTS.md');
    expect(await readlink(join(result.dir, 'docs/up'))).toBe('../AGENTS.md');
    expect((await lstat(join(result.dir, 'dangling'))).isSymbolicLink()).toBe(true);
  });

  it('leaves out a link that points outside or is absolute, with a warning; the upload goes on', async () => {
    const result = await store(
      await tar([
        { name: 'main.py', data: text('print(1)\n') },
        { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' },
        { name: 'up', type: 'symlink', linkname: '../../outside' },
        { name: 'sneaky', type: 'symlink', linkname: 'a/../../x' },
      ]),
    );
    expect(result.files).toEqual([{ path: 'main.py', size: 9 }]);
    expect(result.links).toEqual([]);
    expect(result.warnings).toEqual([
      {
        entry: 'passwd',
        rule: 'link-absolute',
        detail: "left out: it points at the absolute path /etc/passwd, which is not the project's",
      },
      {
        entry: 'up',
        rule: 'link-outside',
        detail: 'left out: it points at ../../outside, outside the project',
      },
      {
        entry: 'sneaky',
        rule: 'link-outside',
        detail: 'left out: its target goes back up (..) after a name; only leading .. are kept',
      },
    ]);
    expect((await readdir(result.dir)).sort()).toEqual(['main.py']);
  });

  it('makes a hard link a copy of the file it names', async () => {
    const result = await store(
      await buildTarGz([
        { name: 'a.txt', data: text('same bytes\n') },
        { name: 'sub/b.txt', type: 'link', linkname: 'a.txt' },
        { name: 'nowhere', type: 'link', linkname: 'missing.txt' },
        { name: 'climb', type: 'link', linkname: '../../etc/passwd' },
      ]).then((bytes) => ({ kind: 'archive' as const, bytes })),
    );
    expect(result.files).toEqual([
      { path: 'a.txt', size: 11 },
      { path: 'sub/b.txt', size: 11 },
    ]);
    expect(result.totalBytes).toBe(22);
    const copy = join(result.dir, 'sub/b.txt');
    expect(await readFile(copy, 'utf8')).toBe('same bytes\n');
    expect((await lstat(copy)).nlink).toBe(1);
    expect(result.warnings.map((warning) => [warning.entry, warning.rule])).toEqual([
      ['nowhere', 'hardlink-unresolved'],
      ['climb', 'hardlink-unresolved'],
    ]);
  });

  it('never writes anything below a link: a later entry through it is a name collision', async () => {
    await expectRejected(
      await tar([
        { name: 'dir', type: 'symlink', linkname: 'real' },
        { name: 'real/', type: 'directory' },
        { name: 'dir/evil.txt', data: text('x') },
      ]),
      { rule: 'name-collision', entry: 'dir/evil.txt' },
    );
    await expectRejected(
      await tar([
        { name: 'a/b.txt', data: text('x') },
        { name: 'a', type: 'symlink', linkname: 'elsewhere' },
      ]),
      { rule: 'name-collision', entry: 'a' },
    );
  });

  it('still refuses a link whose own name breaks a rule', async () => {
    await expectRejected(await tar([{ name: '../evil', type: 'symlink', linkname: 'x' }]), {
      rule: 'path-traversal',
      entry: '../evil',
    });
  });

  it('counts links against the file limit', async () => {
    await expectRejected(
      await tar([
        { name: 'a', data: text('a') },
        { name: 'b', type: 'symlink', linkname: 'a' },
        { name: 'c', type: 'symlink', linkname: 'a' },
      ]),
      { rule: 'too-many-files', entry: 'c', limits: { maxFiles: 2 } },
    );
  });

  it.runIf(process.getuid?.() === 0)('gives every entry to the owner named', async () => {
    const owner = { uid: 64_777, gid: 64_778 };
    const result = await store(
      await tar([
        { name: 'src/a.txt', data: text('a') },
        { name: 'link', type: 'symlink', linkname: 'src/a.txt' },
        { name: 'copy', type: 'link', linkname: 'src/a.txt' },
      ]),
      owner,
    );
    for (const path of ['', 'src', 'src/a.txt', 'link', 'copy']) {
      const stats = await lstat(join(result.dir, path));
      expect([stats.uid, stats.gid], path).toEqual([owner.uid, owner.gid]);
    }
  });
});

describe('symbolic links in a zip', () => {
  it('keeps an inside link, leaves out an outside one, from stored and deflated entries', async () => {
    const result = await store(
      zip([
        { name: 'AGENTS.md', data: text('agents\n') },
        { name: 'CLAUDE.md', data: text('AGENTS.md'), method: 'store', unixMode: LINK_MODE },
        { name: 'docs/up', data: text('../AGENTS.md'), unixMode: LINK_MODE },
        { name: 'passwd', data: text('/etc/passwd'), method: 'store', unixMode: LINK_MODE },
      ]),
    );
    expect(result.links).toEqual([
      { path: 'CLAUDE.md', target: 'AGENTS.md' },
      { path: 'docs/up', target: '../AGENTS.md' },
    ]);
    expect(result.warnings.map((warning) => [warning.entry, warning.rule])).toEqual([
      ['passwd', 'link-absolute'],
    ]);
    expect(await readlink(join(result.dir, 'CLAUDE.md'))).toBe('AGENTS.md');
    expect(await readFile(join(result.dir, 'docs/up'), 'utf8')).toBe('agents\n');
  });

  it('leaves out a link whose target is too long or not UTF-8', async () => {
    const result = await store(
      zip([
        { name: 'a.txt', data: text('a') },
        { name: 'long', data: text('x'.repeat(2_000)), unixMode: LINK_MODE },
        { name: 'bytes', data: Buffer.from([0xff, 0xfe]), method: 'store', unixMode: LINK_MODE },
      ]),
    );
    expect(result.warnings.map((warning) => [warning.entry, warning.rule])).toEqual([
      ['long', 'link-invalid'],
      ['bytes', 'link-invalid'],
    ]);
    expect(result.links).toEqual([]);
  });

  it('refuses a damaged link entry like a damaged file', async () => {
    await expectRejected(
      zip([{ name: 'link', data: text('a.txt'), method: 'store', crc: 1, unixMode: LINK_MODE }]),
      { rule: 'corrupt-archive', entry: 'link' },
    );
  });
});
