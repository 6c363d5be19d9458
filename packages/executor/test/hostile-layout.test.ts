import { execFile, spawn } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMountInfo, pathInFilesystem } from '../src/sandbox/mount-table.ts';
import { MASKED_PROC_FILES } from '../src/sandbox/sandbox-environment.ts';
import { prepareSandboxFiles } from '../src/sandbox/sandbox-files.ts';
import {
  createSandboxHarness,
  SANDBOX_PATHS,
  leftoversOf,
  type SandboxHarness,
} from './support/sandbox-harness.ts';

const run = promisify(execFile);

const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '');
/** The toolchain's directory (`.runbox/toolchain`, or wherever the Node running this lives). */
const TOOLCHAIN_DIR = dirname(dirname(realpathSync(process.execPath)));
/** The API's data directory by default (`RUNBOX_DATA_DIR=./data` from the checkout). */
const DATA_DIR = resolve(REPO_ROOT, 'data');

/** The host files of /proc that the sandbox covers, those this kernel has. */
const MASKED_HERE = MASKED_PROC_FILES.filter((path) => existsSync(path));

let harness: SandboxHarness;
let directoryHarness: SandboxHarness;

describe.each(SANDBOX_PATHS)('through %s sandboxes', (path) => {
  beforeAll(async () => {
    harness = await createSandboxHarness('layout', { path });
    directoryHarness = await createSandboxHarness('layoutdir', { workspaceTmpfs: false, path });
  });
  afterAll(async () => {
    await harness.close();
    await directoryHarness.close();
  });

  /** Every host path that must not show up inside, longest first. */
  function hostPaths(stateDir: string): string[] {
    return [REPO_ROOT, TOOLCHAIN_DIR, DATA_DIR, stateDir, realpathSync(stateDir)];
  }

  function namesOf(text: string, paths: readonly string[]): string[] {
    return paths.filter((path) => text.includes(path));
  }

  const READ_MOUNTINFO = 'cat /proc/self/mountinfo';

  describe('nothing of the host layout is visible inside', () => {
    it('mountinfo names neither the checkout, the toolchain, the data directory nor the sandbox directory', async () => {
      expect(harness.host.files).toMatchObject({ mechanism: 'tmpfs', hidesHostLayout: true });
      const result = await harness.run('bash', READ_MOUNTINFO);
      expect(result.state).toBe('completed');
      const mounts = parseMountInfo(result.stdout);
      expect(mounts.map((mount) => mount.mountPoint)).toEqual(
        expect.arrayContaining(['/', '/usr', '/etc', '/opt/runbox', '/proc', '/workspace']),
      );
      expect(namesOf(result.stdout, hostPaths(harness.host.stateDir))).toEqual([]);
      // Each bind names its source's place inside the source's own filesystem.
      const roots = new Map(mounts.map((mount) => [mount.mountPoint, mount.root]));
      expect(roots.get('/etc')).toBe('/etc');
      expect(roots.get('/opt/runbox')).toBe('/opt/runbox');
      expect(leftoversOf(harness, result)).toEqual([]);
    });

    it('Node, the language runners and the tools still run from the copies', async () => {
      const js = await harness.run('javascript', 'console.log(process.execPath);');
      expect(js.state).toBe('completed');
      expect(js.stdout).toContain('/opt/runbox/bin/node');
      const tools = await harness.run(
        'bash',
        'ls /opt/runbox/runtime >/dev/null && ls /opt/runbox/tools/node_modules/typescript/package.json 2>/dev/null; echo ok',
      );
      expect(tools.stdout.trim().split('\n').at(-1)).toBe('ok');
    });

    it('host-describing /proc files read empty and cannot be written', async () => {
      expect(MASKED_HERE).toContain('/proc/cmdline');
      const code = `
for f in ${MASKED_HERE.join(' ')}; do
  printf '%s %s ' "$f" "$(head -c 4096 "$f" 2>/dev/null | wc -c)"
  if (printf x > "$f") 2>/dev/null; then echo writable; else echo refused; fi
done`;
      const result = await harness.run('bash', code);
      expect(result.state).toBe('completed');
      const lines = result.stdout.trim().split('\n');
      expect(lines).toEqual(MASKED_HERE.map((path) => `${path} 0 refused`));
    });

    it('a directory workspace names the sandbox directory, and nothing else does', async () => {
      // The limit of plain-directory workspaces: /workspace is a bind of a directory under the
      // sandbox directory, so its path shows (docs/security.md). /etc and /opt/runbox do not.
      expect(directoryHarness.host.workspaces.mechanism).toBe('directory');
      const result = await directoryHarness.run('bash', READ_MOUNTINFO);
      const leaking = result.stdout
        .split('\n')
        .filter((line) => namesOf(line, hostPaths(directoryHarness.host.stateDir)).length > 0);
      expect(leaking.map((line) => parseMountInfo(line)[0]?.mountPoint)).toEqual(
        leaking.length === 0 ? [] : ['/workspace'],
      );
    });
  });

  describe("the sandbox's own files", () => {
    let scratch: string;
    beforeAll(async () => {
      scratch = await mkdtemp(join(tmpdir(), 'runbox-test-files-'));
    });
    afterAll(async () => {
      await run('umount', ['-l', join(scratch, 'state')]).catch(() => {});
      await rm(scratch, { recursive: true, force: true });
    });

    async function sources(): Promise<{ source: string; dest: string }[]> {
      const runtime = join(scratch, 'runtime');
      await mkdir(runtime, { recursive: true });
      await writeFile(join(runtime, 'runner.py'), 'print(1)\n');
      return [
        { source: process.execPath, dest: '/opt/runbox/bin/node' },
        { source: runtime, dest: '/opt/runbox/runtime' },
      ];
    }

    it('hide the layout without a tmpfs of their own when the sandbox directory is a filesystem (Docker)', async () => {
      const stateDir = join(scratch, 'state');
      await mkdir(stateDir);
      await run('mount', ['-t', 'tmpfs', '-o', 'size=256m', 'state', stateDir]);
      const files = await prepareSandboxFiles({
        parent: join(stateDir, 'files'),
        useTmpfs: false,
        sources: await sources(),
      });
      try {
        expect(files).toMatchObject({ mechanism: 'directory', hidesHostLayout: true });
        const mounts = parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
        const shown = files.mounts.map((mount) => pathInFilesystem(mount.source, mounts));
        expect(namesOf(shown.join('\n'), hostPaths(scratch))).toEqual([]);
        const name = basename(files.root);
        expect(shown.slice(0, 2)).toEqual([`/files/${name}/etc`, `/files/${name}/opt/runbox`]);
      } finally {
        await files.close();
      }
    });

    it("of a second host on the same sandbox directory leave the first one's alone, and clear the dead", async () => {
      const parent = join(scratch, 'shared', 'files');
      const dead = join(parent, '999999999-0');
      await mkdir(dead, { recursive: true });
      await run('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'dead', dead]);
      const first = await prepareSandboxFiles({ parent, useTmpfs: true, sources: await sources() });
      expect(existsSync(dead)).toBe(false);
      const second = await prepareSandboxFiles({
        parent,
        useTmpfs: true,
        sources: await sources(),
      });
      await second.close();
      try {
        expect(first.root).not.toBe(second.root);
        expect(existsSync(join(first.root, 'etc', 'passwd'))).toBe(true);
        expect(existsSync(join(first.root, 'opt', 'runbox', 'bin', 'node'))).toBe(true);
      } finally {
        await first.close();
      }
      const left = (await readFile('/proc/self/mountinfo', 'utf8')).includes(parent);
      expect(left).toBe(false);
    });

    it('go with a server that is killed: its tmpfs is detached and removed', async () => {
      const parent = join(scratch, 'killed', 'files');
      const moduleUrl = new URL('../src/sandbox/sandbox-files.ts', import.meta.url).href;
      const script = `
      const { prepareSandboxFiles } = await import(${JSON.stringify(moduleUrl)});
      const files = await prepareSandboxFiles({ parent: ${JSON.stringify(parent)}, useTmpfs: true, sources: [] });
      console.log(files.root);
      setInterval(() => {}, 1000);`;
      const server = spawn(process.execPath, ['--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const root = await new Promise<string>((resolve, reject) => {
        server.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
        server.once('exit', (code) => reject(new Error(`the server ended first (${code})`)));
      });
      const mounted = async (): Promise<boolean> =>
        parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8')).some(
          (mount) => mount.mountPoint === root,
        );
      expect(await mounted()).toBe(true);
      server.kill('SIGKILL');
      for (let tries = 0; tries < 100 && ((await mounted()) || existsSync(root)); tries++) {
        await sleep(50);
      }
      expect(await mounted()).toBe(false);
      expect(existsSync(root)).toBe(false);
    });

    it('come from where they are, nothing big copied, when a plain directory would show anyway', async () => {
      const files = await prepareSandboxFiles({
        parent: join(scratch, 'plain', 'files'),
        useTmpfs: false,
        sources: await sources(),
      });
      try {
        expect(files).toMatchObject({ mechanism: 'directory', hidesHostLayout: false });
        expect(files.copiedBytes).toBe(0);
        expect(files.mounts.map((mount) => mount.source)).toContain(realpathSync(process.execPath));
      } finally {
        await files.close();
      }
      expect(existsSync(files.root)).toBe(false);
    });
  });
});
