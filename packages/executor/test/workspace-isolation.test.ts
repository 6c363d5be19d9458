import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandboxHarness,
  leftoversOf,
  type SandboxHarness,
} from './support/sandbox-harness.ts';

/**
 * Nothing of one run reaches the next through its workspace, and the release path fails closed.
 * Every run here uses the same workspace size, so a reused tmpfs slot is what the next run gets.
 */

const MiB = 1024 * 1024;
let harness: SandboxHarness;
const releaseErrors: unknown[] = [];

/** Mount points under the harness's workspaces, from the kernel's own list. */
function workspaceMounts(): string[] {
  const root = harness.host.workspaces.root;
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${root}/`));
}

beforeAll(async () => {
  harness = await createSandboxHarness('isolation', {
    onWorkspaceReleaseError: (error) => releaseErrors.push(error),
  });
});
afterAll(async () => {
  await harness?.close();
});

describe('a workspace per run', () => {
  it('is fresh after a run that took every permission off /workspace (slot poisoning)', async () => {
    const poison = await harness.run(
      'python',
      "import os\nos.chmod('/workspace', 0)\nprint('done')",
    );
    expect(poison.state).toBe('completed');
    expect(leftoversOf(harness, poison)).toEqual([]);
    // Several runs in a row, each of which would have got the poisoned slot before.
    for (let i = 0; i < 3; i++) {
      const next = await harness.run('python', "print(open('/workspace/main.py').read() != '')");
      expect(next.state, next.stderr).toBe('completed');
      expect(next.stdout).toBe('True\n');
      expect(leftoversOf(harness, next)).toEqual([]);
    }
  });

  it("carries no mode, xattr, timestamp or file of one run into the next one's /workspace", async () => {
    const first = await harness.run(
      'python',
      [
        'import os',
        "os.setxattr('/workspace', 'user.runbox', b'left-behind')",
        "os.chmod('/workspace', 0o751)",
        "os.utime('/workspace', (1000000000, 1000000000))",
        "open('/workspace/left.txt', 'w').write('x')",
        "os.mkdir('/workspace/.hidden')",
        "print(os.listxattr('/workspace'))",
      ].join('\n'),
    );
    expect(first.state, first.stderr).toBe('completed');
    expect(first.stdout).toBe("['user.runbox']\n");

    const second = await harness.run(
      'python',
      [
        'import os, json, time',
        "st = os.stat('/workspace')",
        'print(json.dumps({',
        "  'xattrs': os.listxattr('/workspace'),",
        "  'mode': oct(st.st_mode & 0o7777),",
        "  'uid': st.st_uid,",
        "  'fresh': abs(time.time() - st.st_mtime) < 60,",
        "  'names': sorted(n for n in os.listdir('/workspace') if n != '.runbox'),",
        '}))',
      ].join('\n'),
    );
    expect(second.state, second.stderr).toBe('completed');
    expect(JSON.parse(second.stdout)).toEqual({
      xattrs: [],
      mode: '0o700',
      uid: 1000,
      fresh: true,
      names: ['main.py'],
    });
  });

  it('removes a tree deeper than PATH_MAX beside a large file, then the next run completes', async () => {
    releaseErrors.length = 0;
    const mountsBefore = workspaceMounts().length;
    const deep = await harness.run(
      'python',
      [
        'import os',
        "name = 'd' * 200",
        'for _ in range(40):',
        '    os.mkdir(name)',
        '    os.chdir(name)',
        "os.chdir('/workspace')",
        "with open('/workspace/big.bin', 'wb') as f:",
        '    for _ in range(64):',
        "        f.write(b'x' * (1024 * 1024))",
        "print('made')",
      ].join('\n'),
      { limits: { workspaceBytes: 128 * MiB } },
    );
    expect(deep.state, deep.stderr).toBe('completed');
    expect(deep.stdout).toBe('made\n');
    expect(deep.setupError).toBeNull();
    expect(releaseErrors).toEqual([]);
    expect(leftoversOf(harness, deep)).toEqual([]);
    // The slot went back empty (or was dropped); no mount was leaked for it.
    expect(workspaceMounts().length).toBeLessThanOrEqual(mountsBefore + 1);
    for (const mountPoint of workspaceMounts()) {
      expect(readdirSync(mountPoint), mountPoint).toEqual([]);
    }
    const next = await harness.run('bash', 'df --output=used -B1 /workspace | tail -1', {
      limits: { workspaceBytes: 128 * MiB },
    });
    expect(next.state).toBe('completed');
    // Only the snippet file: the 64 MiB of the run before are gone.
    expect(Number(next.stdout.trim())).toBeLessThan(MiB);
  });

  it('detaches a slot it cannot empty, never reuses it, and the next run still works', async () => {
    releaseErrors.length = 0;
    const run = await harness.run('bash', 'echo stuck > /workspace/stuck.txt', {
      // The host makes the file immutable (the sandbox cannot): emptying must fail.
      inspectWorkspace: async (dir) => {
        execFileSync('chattr', ['+i', `${dir}/stuck.txt`]);
      },
    });
    expect(run.state).toBe('completed');
    expect(releaseErrors).toHaveLength(1);
    const slot = run.workspaceDir.slice(0, run.workspaceDir.lastIndexOf('/'));
    expect(workspaceMounts()).not.toContain(slot);
    const next = await harness.run('bash', 'ls -A /workspace');
    expect(next.state).toBe('completed');
    expect(next.stdout).toBe('main.sh\n');
    expect(leftoversOf(harness, next)).toEqual([]);
  });
});
