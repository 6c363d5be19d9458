import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTar, buildTarGz } from '../src/uploads/test-support/build-tar.ts';
import { buildZip, deflatedZeros } from '../src/uploads/test-support/build-zip.ts';
import {
  codeOf,
  ownerClient,
  rejectionOf,
  runboxDetailsOf,
  type TestClient,
} from './support/clients.ts';
import { rawPost, trpcErrorOf } from './support/http.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { fullOutput, outputLines } from './support/subscriptions.ts';

/** Uploads over the API: every hostile archive refused with its rule, nothing kept; a good one runs. */

const MiB = 1024 * 1024;

let server: TestServer;
let owner: TestClient;

beforeAll(async () => {
  server = await startTestServer('uploads');
  owner = await ownerClient(server.url);
});
afterAll(async () => {
  await owner?.close();
  await server?.stop();
});

function archiveForm(bytes: Buffer, fileName = 'upload.tar'): FormData {
  const form = new FormData();
  form.append('archive', new File([new Uint8Array(bytes)], fileName));
  return form;
}

function filesForm(files: { path: string; content: string }[]): FormData {
  const form = new FormData();
  for (const file of files) form.append('files', new File([file.content], 'blob'));
  form.append('paths', JSON.stringify(files.map((file) => file.path)));
  return form;
}

/** Nothing of a refused upload is kept: no project row, no directory, no temporary directory. */
async function expectNothingStored(): Promise<void> {
  expect(await owner.trpc.projects.list.query()).toEqual([]);
  expect(await readdir(join(server.dataDir, 'projects'))).toEqual([]);
}

interface Refusal {
  name: string;
  form: () => Promise<FormData>;
  code: 'BAD_REQUEST' | 'PAYLOAD_TOO_LARGE';
  rule: string;
  entry?: string;
}

const refusals: Refusal[] = [
  {
    name: 'a ../evil path in a tar',
    form: async () =>
      archiveForm(await buildTar([{ name: '../evil', data: Buffer.from('x') }]), 'evil.tar'),
    code: 'BAD_REQUEST',
    rule: 'path-traversal',
    entry: '../evil',
  },
  {
    name: 'a nested a/../../evil path in a zip',
    form: async () =>
      archiveForm(buildZip([{ name: 'a/../../evil.txt', data: Buffer.from('x') }]), 'evil.zip'),
    code: 'BAD_REQUEST',
    rule: 'path-traversal',
    entry: 'a/../../evil.txt',
  },
  {
    name: 'a symlink whose own name climbs out, in a tar',
    form: async () =>
      archiveForm(
        await buildTar([
          { name: 'main.py', data: Buffer.from('print(1)\n') },
          { name: '../passwd', type: 'symlink', linkname: 'main.py' },
        ]),
      ),
    code: 'BAD_REQUEST',
    rule: 'path-traversal',
    entry: '../passwd',
  },
  {
    name: 'a file written through a link of the same upload, in a tar',
    form: async () =>
      archiveForm(
        await buildTar([
          { name: 'etc', type: 'symlink', linkname: 'conf' },
          { name: 'etc/cron.d/evil', data: Buffer.from('x') },
        ]),
      ),
    code: 'BAD_REQUEST',
    rule: 'name-collision',
    entry: 'etc/cron.d/evil',
  },
  {
    name: 'an absolute path in a tar.gz',
    form: async () =>
      archiveForm(
        await buildTarGz([{ name: '/etc/cron.d/evil', data: Buffer.from('x') }]),
        'abs.tar.gz',
      ),
    code: 'BAD_REQUEST',
    rule: 'absolute-path',
    entry: '/etc/cron.d/evil',
  },
  {
    name: 'a zip bomb: 5 MiB of zeros in a few KB (ratio over 100:1)',
    form: async () => {
      const bomb = await deflatedZeros(5 * MiB);
      return archiveForm(
        buildZip([
          {
            name: 'bomb.bin',
            method: 'deflate',
            compressed: bomb.compressed,
            crc: bomb.crc,
            declaredSize: 5 * MiB,
          },
        ]),
        'bomb.zip',
      );
    },
    code: 'PAYLOAD_TOO_LARGE',
    rule: 'compression-ratio',
    entry: 'bomb.bin',
  },
  {
    name: 'a zip bomb: one 100 MiB entry of zeros (over the file limit)',
    form: async () => {
      const bomb = await deflatedZeros(100 * MiB);
      return archiveForm(
        buildZip([
          {
            name: 'big.bin',
            method: 'deflate',
            compressed: bomb.compressed,
            crc: bomb.crc,
            declaredSize: 100 * MiB,
          },
        ]),
        'big.zip',
      );
    },
    code: 'PAYLOAD_TOO_LARGE',
    rule: 'file-too-large',
    entry: 'big.bin',
  },
  {
    name: 'a zip bomb whose header lies about its size',
    form: async () => {
      const bomb = await deflatedZeros(20 * MiB);
      return archiveForm(
        buildZip([
          {
            name: 'liar.bin',
            method: 'deflate',
            compressed: bomb.compressed,
            crc: bomb.crc,
            declaredSize: 1000,
          },
        ]),
        'liar.zip',
      );
    },
    code: 'BAD_REQUEST',
    rule: 'corrupt-archive',
    entry: 'liar.bin',
  },
  {
    name: 'loose files with a ../ path',
    form: async () =>
      filesForm([
        { path: 'ok/main.py', content: 'print(1)\n' },
        { path: 'ok/../../evil.py', content: 'x' },
      ]),
    code: 'BAD_REQUEST',
    rule: 'path-traversal',
    entry: 'ok/../../evil.py',
  },
  {
    name: 'loose files with an absolute path',
    form: async () => filesForm([{ path: '/root/.bashrc', content: 'x' }]),
    code: 'BAD_REQUEST',
    rule: 'absolute-path',
    entry: '/root/.bashrc',
  },
  {
    name: 'bytes that are no archive',
    form: async () => archiveForm(Buffer.from('just some text, not an archive\n'), 'notes.txt'),
    code: 'BAD_REQUEST',
    rule: 'unsupported-format',
  },
];

describe('hostile uploads are refused with their rule, and nothing is stored', () => {
  for (const refusal of refusals) {
    it(refusal.name, async () => {
      const error = await rejectionOf(owner.trpc.projects.upload.mutate(await refusal.form()));
      expect(codeOf(error)).toBe(refusal.code);
      const details = runboxDetailsOf(error);
      expect(details).toMatchObject({ code: 'UPLOAD_REJECTED', rule: refusal.rule });
      if (refusal.entry !== undefined) {
        expect(details?.entry).toBe(refusal.entry);
        expect(error.message).toContain(`entry "${refusal.entry}"`);
      }
      await expectNothingStored();
    });
  }

  it('an upload with neither archive nor files, or paths that do not match the files', async () => {
    const empty = await rejectionOf(owner.trpc.projects.upload.mutate(new FormData()));
    expect(codeOf(empty)).toBe('BAD_REQUEST');
    expect(runboxDetailsOf(empty)).toMatchObject({ code: 'BAD_INPUT', field: 'archive' });

    const form = new FormData();
    form.append('files', new File(['a'], 'a'));
    form.append('files', new File(['b'], 'b'));
    form.append('paths', JSON.stringify(['a.txt']));
    const mismatch = await rejectionOf(owner.trpc.projects.upload.mutate(form));
    expect(codeOf(mismatch)).toBe('BAD_REQUEST');
    expect(runboxDetailsOf(mismatch)).toMatchObject({ code: 'BAD_INPUT', field: 'paths' });
    expect(mismatch.message).toContain('2 relative paths');

    const notJson = new FormData();
    notJson.append('files', new File(['a'], 'a'));
    notJson.append('paths', '[not json');
    const badPaths = await rejectionOf(owner.trpc.projects.upload.mutate(notJson));
    expect(runboxDetailsOf(badPaths)).toMatchObject({ code: 'BAD_INPUT', field: 'paths' });
    await expectNothingStored();
  });

  it('an upload sent as JSON instead of form data is a 400, not a 500', async () => {
    const answer = await rawPost(server.url, 'projects.upload', JSON.stringify({ archive: 'x' }), {
      cookie: owner.cookie ?? '',
    });
    expect(answer.status).toBe(400);
    expect(trpcErrorOf(answer.json).code).toBe('BAD_REQUEST');
    await expectNothingStored();
  });
});

describe('a good upload', () => {
  it('is stored, listed, and a tool runs on it', async () => {
    const main = Buffer.from('import helper\nprint(helper.greet("upload"))\n');
    const helper = Buffer.from('def greet(name):\n    return f"hello {name}"\n');
    const tar = await buildTarGz([
      { name: 'main.py', data: main },
      { name: 'helper.py', data: helper },
      { name: 'data/', type: 'directory' },
      { name: 'data/input.txt', data: Buffer.from('42\n') },
    ]);
    const form = archiveForm(tar, 'project.tar.gz');
    form.append('name', 'my project');
    const project = await owner.trpc.projects.upload.mutate(form);
    expect(project).toMatchObject({
      name: 'my project',
      source: 'upload',
      fileCount: 3,
      totalBytes: main.length + helper.length + 3,
    });
    expect(project.files.map((file) => file.path).sort()).toEqual([
      'data/input.txt',
      'helper.py',
      'main.py',
    ]);

    expect(project.links).toEqual([]);
    expect(project.warnings).toEqual([]);
    const { files: _files, links: _links, warnings: _warnings, ...view } = project;
    expect(await owner.trpc.projects.list.query()).toEqual([view]);
    expect(await owner.trpc.projects.get.query({ id: project.id })).toEqual(view);
    expect(await owner.trpc.projects.files.query({ id: project.id })).toEqual([
      { path: 'data/input.txt', size: 3 },
      { path: 'helper.py', size: helper.length },
      { path: 'main.py', size: main.length },
    ]);

    const run = await owner.trpc.runs.create.mutate({
      kind: 'tool',
      toolId: 'python',
      projectId: project.id,
    });
    expect(run).toMatchObject({ kind: 'tool', toolId: 'python', projectId: project.id });
    const events = await fullOutput(owner.trpc, run.id);
    expect(outputLines(events)).toEqual(['hello upload']);
    const end = events.at(-1);
    expect(end?.type === 'end' && end.result.state).toBe('completed');
  });

  it('loose files with their paths (a folder picked in a browser) make a project', async () => {
    const project = await owner.trpc.projects.upload.mutate(
      filesForm([
        { path: 'run.sh', content: 'echo "from $(cat sub/word.txt)"\n' },
        { path: 'sub/word.txt', content: 'files' },
      ]),
    );
    expect(project.fileCount).toBe(2);
    const run = await owner.trpc.runs.create.mutate({
      kind: 'tool',
      toolId: 'bash',
      projectId: project.id,
    });
    expect(outputLines(await fullOutput(owner.trpc, run.id))).toEqual(['from files']);
  });
});

describe('links in an upload', () => {
  it('keeps an inside link, copies a hard link, leaves out outside ones with a warning, and the link works in the sandbox', async () => {
    const run = [
      'echo "claude: $(cat CLAUDE.md)"',
      'echo "up: $(cat docs/up)"',
      'echo "link: $(readlink CLAUDE.md)"',
      'echo "copy: $(cat copy.md)"',
      'echo "entries: $(ls -A | paste -sd \' \')"',
      // The filesystem /workspace is: a layer over the stored project when runbox runs as root.
      "grep ' /workspace ' /proc/self/mountinfo | sed 's/.* - \\([^ ]*\\) .*/fs: \\1/'",
    ].join('\n');
    const tar = await buildTar([
      { name: 'run.sh', data: Buffer.from(`${run}\n`) },
      { name: 'AGENTS.md', data: Buffer.from('be kind') },
      { name: 'CLAUDE.md', type: 'symlink', linkname: 'AGENTS.md' },
      { name: 'docs/', type: 'directory' },
      { name: 'docs/up', type: 'symlink', linkname: '../AGENTS.md' },
      { name: 'copy.md', type: 'link', linkname: 'AGENTS.md' },
      { name: 'passwd', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'escape', type: 'symlink', linkname: '../../../etc' },
    ]);
    const project = await owner.trpc.projects.upload.mutate(archiveForm(tar, 'links.tar'));
    expect(project.fileCount).toBe(3);
    expect(project.files.map((file) => file.path)).toEqual(['AGENTS.md', 'copy.md', 'run.sh']);
    expect(project.links).toEqual([
      { path: 'CLAUDE.md', target: 'AGENTS.md' },
      { path: 'docs/up', target: '../AGENTS.md' },
    ]);
    expect(project.warnings.map((warning) => [warning.entry, warning.rule])).toEqual([
      ['passwd', 'link-absolute'],
      ['escape', 'link-outside'],
    ]);
    expect(project.warnings[0]?.detail).toContain('/etc/passwd');

    const created = await owner.trpc.runs.create.mutate({
      kind: 'tool',
      toolId: 'bash',
      projectId: project.id,
    });
    const events = await fullOutput(owner.trpc, created.id);
    const lines = outputLines(events);
    expect(lines.slice(0, 5)).toEqual([
      'claude: be kind',
      'up: be kind',
      'link: AGENTS.md',
      'copy: be kind',
      'entries: AGENTS.md CLAUDE.md copy.md docs run.sh',
    ]);
    if (process.getuid?.() === 0) expect(lines[5]).toBe('fs: overlay');
    const end = events.at(-1);
    expect(end?.type === 'end' && end.result.state).toBe('completed');
  });

  it('a zip whose only link points outside goes on without it, with a warning', async () => {
    const project = await owner.trpc.projects.upload.mutate(
      archiveForm(
        buildZip([
          { name: 'main.py', data: Buffer.from('print(1)\n') },
          { name: 'link', data: Buffer.from('/etc/passwd'), unixMode: 0o120777 },
        ]),
        'link.zip',
      ),
    );
    expect(project.files).toEqual([{ path: 'main.py', size: 9 }]);
    expect(project.links).toEqual([]);
    expect(project.warnings).toEqual([
      {
        entry: 'link',
        rule: 'link-absolute',
        detail: "left out: it points at the absolute path /etc/passwd, which is not the project's",
      },
    ]);
  });
});
