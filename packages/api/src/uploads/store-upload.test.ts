import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidProjectIdError, ProjectExistsError, UploadRejectedError } from './upload-errors.ts';
import { storeUpload, type UploadSource } from './store-upload.ts';
import { buildTar } from './test-support/build-tar.ts';
import { buildZip } from './test-support/build-zip.ts';
import {
  expectRejected,
  makeProjectsRoot,
  removeProjectsRoot,
} from './test-support/expect-rejected.ts';

const text = (value: string): Buffer => Buffer.from(value, 'utf8');
const PNG = Buffer.concat([
  Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
  Buffer.alloc(64),
]);

let outer: string;
let root: string;
beforeEach(async () => {
  outer = await makeProjectsRoot();
  root = join(outer, 'projects');
  await mkdir(root);
});
afterEach(async () => {
  await removeProjectsRoot(outer);
});

const simpleZip: UploadSource = {
  kind: 'archive',
  bytes: buildZip([{ name: 'src/a.ts', data: text('a') }]),
};

describe('storeUpload', () => {
  it('renames a complete project into place with fixed modes, writing nothing beside it', async () => {
    const result = await storeUpload({
      source: simpleZip,
      projectsRoot: root,
      projectId: 'p-1.x_y',
    });
    expect(result).toEqual({
      dir: join(root, 'p-1.x_y'),
      format: 'zip',
      files: [{ path: 'src/a.ts', size: 1 }],
      links: [],
      warnings: [],
      totalBytes: 1,
    });
    expect((await stat(result.dir)).mode & 0o7777).toBe(0o755);
    expect((await stat(join(result.dir, 'src'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(result.dir, 'src/a.ts'))).mode & 0o7777).toBe(0o644);
    expect(await readdir(root)).toEqual(['p-1.x_y']);
    expect(await readdir(outer)).toEqual(['projects']);
  });

  it('refuses unsupported formats by their bytes, naming what they look like', async () => {
    const png = await expectRejected(
      { kind: 'archive', bytes: PNG },
      { rule: 'unsupported-format', entry: null },
    );
    expect(png.message).toContain('a PNG image');
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251));
    await expectRejected(
      { kind: 'archive', bytes: random },
      { rule: 'unsupported-format', entry: null },
    );
  });

  it('refuses an empty upload and an archive over maxUploadBytes before extracting', async () => {
    await expectRejected(
      { kind: 'archive', bytes: Buffer.alloc(0) },
      { rule: 'empty', entry: null },
    );
    const error = await expectRejected(simpleZip, {
      rule: 'upload-too-large',
      entry: null,
      limits: { maxUploadBytes: 10 },
      limit: 10,
    });
    expect(error.actual).toBe(simpleZip.kind === 'archive' ? simpleZip.bytes.length : 0);
  });

  it('removes everything when an entry fails after others were written', async () => {
    const zip: UploadSource = {
      kind: 'archive',
      bytes: buildZip([
        { name: 'a/one.txt', data: text('1') },
        { name: 'b/two.txt', data: text('2') },
        { name: 'c/three.txt', data: text('3'), crc: 1 },
      ]),
    };
    await expectRejected(zip, { rule: 'corrupt-archive', entry: 'c/three.txt' });
    const tar: UploadSource = {
      kind: 'archive',
      bytes: await buildTar([
        { name: 'a/one.txt', data: text('1') },
        { name: 'b/two.txt', data: text('2') },
        { name: 'c', type: 'fifo' },
      ]),
    };
    await expectRejected(tar, { rule: 'fifo', entry: 'c' });
  });

  it('refuses project ids that are not one plain name, creating nothing', async () => {
    for (const projectId of ['', '..', '.hidden', 'a/b', '../x', 'a\\b', 'x'.repeat(129), 'é']) {
      await expect(
        storeUpload({ source: simpleZip, projectsRoot: root, projectId }),
      ).rejects.toBeInstanceOf(InvalidProjectIdError);
    }
    expect(await readdir(root)).toEqual([]);
  });

  it('never replaces an existing project, not even an empty directory or a file', async () => {
    await mkdir(join(root, 'taken'));
    await writeFile(join(root, 'taken/keep.txt'), 'keep');
    await expect(
      storeUpload({ source: simpleZip, projectsRoot: root, projectId: 'taken' }),
    ).rejects.toBeInstanceOf(ProjectExistsError);
    expect(await readFile(join(root, 'taken/keep.txt'), 'utf8')).toBe('keep');
    await mkdir(join(root, 'empty'));
    await writeFile(join(root, 'file'), 'x');
    for (const projectId of ['empty', 'file']) {
      await expect(
        storeUpload({ source: simpleZip, projectsRoot: root, projectId }),
      ).rejects.toMatchObject({
        code: 'PROJECT_EXISTS',
      });
    }
    expect((await readdir(root)).sort()).toEqual(['empty', 'file', 'taken']);
  });

  it('lets only one of two concurrent uploads of the same id win', async () => {
    const results = await Promise.allSettled([
      storeUpload({ source: simpleZip, projectsRoot: root, projectId: 'race' }),
      storeUpload({ source: simpleZip, projectsRoot: root, projectId: 'race' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(ProjectExistsError);
    expect(await readdir(root)).toEqual(['race']);
  });

  it('answers a refusal with UploadRejectedError, never a library error', async () => {
    const bytes = buildZip([{ name: 'a.txt', data: text('hello') }]);
    bytes.writeUInt32LE(0xdeadbeef, bytes.length - 22);
    await expect(
      storeUpload({ source: { kind: 'archive', bytes }, projectsRoot: root, projectId: 'p' }),
    ).rejects.toBeInstanceOf(UploadRejectedError);
    expect(await readdir(root)).toEqual([]);
  });
});
