import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readWorkspaceFile, UnsafeWorkspacePathError } from '../src/sandbox/safe-fs.ts';
import { scanWorkspace } from '../src/sandbox/workspace-tree.ts';
import {
  createSandboxHarness,
  SANDBOX_PATHS,
  leftoversOf,
  type SandboxHarness,
} from './support/sandbox-harness.ts';

const MiB = 1024 * 1024;
let harness: SandboxHarness;
/** The fallback for hosts where runbox may not mount: plain directories, RLIMIT_FSIZE only. */
let directoryHarness: SandboxHarness;

describe.each(SANDBOX_PATHS)('through %s sandboxes', (path) => {
  beforeAll(async () => {
    harness = await createSandboxHarness('fs', { path });
    directoryHarness = await createSandboxHarness('fsdir', { workspaceTmpfs: false, path });
  });
  afterAll(async () => {
    await harness.close();
    await directoryHarness.close();
  });

  const tryWrite = (path: string, bytes: number): string => `
import errno
try:
    with open(${JSON.stringify(path)}, "wb") as f:
        block = b"x" * (1024 * 1024)
        for _ in range(${Math.ceil(bytes / MiB)}):
            f.write(block)
            f.flush()
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
`;

  describe('the filesystem holds', () => {
    it('fills /tmp only up to its size: ENOSPC', async () => {
      const run = await harness.run('python', tryWrite('/tmp/fill', 64 * MiB), {
        limits: { tmpBytes: 16 * MiB },
      });
      expect(run.state).toBe('completed');
      expect(run.stdout.trim()).toBe('ENOSPC');
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('stops one file at the size of a tmpfs workspace: ENOSPC', async () => {
      expect(harness.host.workspaces.mechanism).toBe('tmpfs');
      const run = await harness.run('python', tryWrite('/workspace/big', 64 * MiB), {
        limits: { workspaceBytes: 16 * MiB },
      });
      expect(run.state).toBe('completed');
      expect(run.stdout.trim()).toBe('ENOSPC');
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('stops many files at the size of a tmpfs workspace: ENOSPC', async () => {
      const code = `
import errno
try:
    for i in range(64):
        with open(f"/workspace/part{i}", "wb") as f:
            f.write(b"x" * (1024 * 1024))
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
`;
      const run = await harness.run('python', code, { limits: { workspaceBytes: 16 * MiB } });
      expect(run.state).toBe('completed');
      expect(run.stdout.trim()).toBe('ENOSPC');
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('stops one file at the workspace size in a plain-directory workspace: EFBIG', async () => {
      expect(directoryHarness.host.workspaces.mechanism).toBe('directory');
      const run = await directoryHarness.run('python', tryWrite('/workspace/big', 64 * MiB), {
        limits: { workspaceBytes: 16 * MiB },
      });
      expect(run.state).toBe('completed');
      expect(run.stdout.trim()).toBe('EFBIG');
      expect(leftoversOf(directoryHarness, run)).toEqual([]);
    });

    it('runs out of file descriptors at the limit: EMFILE', async () => {
      const code = `
import errno
files = []
try:
    while True:
        files.append(open("/dev/null"))
except OSError as e:
    print(errno.errorcode[e.errno], len(files) + 3)
`;
      const run = await harness.run('python', code, { limits: { openFiles: 64 } });
      expect(run.stdout.trim()).toBe('EMFILE 64');
    });

    it('has no /etc/shadow and no host accounts', async () => {
      const run = await harness.run(
        'bash',
        'cat /etc/shadow; echo "rc=$?"; cut -d: -f1 /etc/passwd | tr "\\n" " "',
      );
      expect(run.stdout).toBe('rc=1\nroot runner nobody ');
      expect(run.stderr).toContain('No such file or directory');
    });

    it('cannot write to /, /usr or /etc: EROFS', async () => {
      const code = `
import errno
for path in ["/evil", "/usr/evil", "/etc/evil", "/usr/bin/python3", "/dev/evil"]:
    try:
        open(path, "w").close()
        print(path, "OK")
    except OSError as e:
        print(path, errno.errorcode[e.errno])
`;
      const run = await harness.run('python', code);
      expect(run.stdout.trim().split('\n')).toEqual([
        '/evil EROFS',
        '/usr/evil EROFS',
        '/etc/evil EROFS',
        '/usr/bin/python3 EROFS',
        '/dev/evil EROFS',
      ]);
    });

    it('sees none of the server environment through /proc', async () => {
      const canary = `canary-${Math.random().toString(36).slice(2)}`;
      process.env.RUNBOX_TEST_CANARY_SECRET = canary;
      try {
        const run = await harness.run(
          'bash',
          'for f in /proc/*/environ; do cat "$f" 2>/dev/null | tr "\\0" "\\n"; done; env',
        );
        expect(run.state).toBe('completed');
        expect(run.stdout).not.toContain(canary);
        expect(run.stdout).not.toContain('RUNBOX_TEST_CANARY_SECRET');
        expect(run.stdout).toContain('PATH=');
      } finally {
        delete process.env.RUNBOX_TEST_CANARY_SECRET;
      }
    });

    it('hands the program no descriptor beyond stdin, stdout and stderr', async () => {
      const run = await harness.run(
        'python',
        'import os\nprint(sorted(int(f) for f in os.listdir("/proc/self/fd")))',
      );
      // The fourth is the descriptor listdir itself opened.
      expect(run.stdout.trim()).toBe('[0, 1, 2, 3]');
    });

    it('lists planted symlinks as links and never follows them on the host', async () => {
      const hostPasswd = readFileSync('/etc/passwd', 'utf8');
      const code =
        'ln -s /etc/passwd leak.txt\nln -s /etc etcdir\nln -s / root\nmkdir -p real && echo hi > real/ok.txt';
      let listing: Awaited<ReturnType<typeof scanWorkspace>> | undefined;
      const refusals: string[] = [];
      const run = await harness.run('bash', code, {
        inspectWorkspace: async (dir) => {
          listing = await scanWorkspace(dir, { maxEntries: 100 });
          for (const path of ['leak.txt', 'etcdir/passwd', 'root/etc/passwd']) {
            try {
              await readWorkspaceFile(dir, path, 1024);
              refusals.push(`${path}: read`);
            } catch (error) {
              refusals.push(
                `${path}: ${error instanceof UnsafeWorkspacePathError ? 'refused' : String(error)}`,
              );
            }
          }
          expect((await readWorkspaceFile(dir, 'real/ok.txt', 1024)).toString()).toBe('hi\n');
        },
      });
      expect(run.state).toBe('completed');
      const kinds = Object.fromEntries(
        (listing?.entries ?? []).map((entry) => [entry.path, entry.kind]),
      );
      expect(kinds).toEqual({
        etcdir: 'symlink',
        'leak.txt': 'symlink',
        real: 'directory',
        'real/ok.txt': 'file',
        root: 'symlink',
        'main.sh': 'file',
      });
      expect(refusals).toEqual([
        'leak.txt: refused',
        'etcdir/passwd: refused',
        'root/etc/passwd: refused',
      ]);
      // Emptying the workspace removed the links, not what they pointed at.
      expect(readFileSync('/etc/passwd', 'utf8')).toBe(hostPasswd);
      expect(existsSync('/etc/hostname')).toBe(true);
      expect(leftoversOf(harness, run)).toEqual([]);
    });
  });
});
