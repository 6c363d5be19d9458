import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startSandboxForker,
  type ForkedProcess,
  type ForkRequest,
  type SandboxForker,
} from './sandbox-forker.ts';

/**
 * The forker for real: the child it starts does the launcher's steps (descriptors, signals,
 * rlimits, privileges) before it execs the program; it takes streams from this process only;
 * a child's end always reaches the server. Programs here are the host's python3 and sh, in place
 * of bwrap; the sandbox's own tests run everything through it with bwrap.
 */

const asRoot = process.getuid?.() === 0;
let forker: SandboxForker;
let dir: string;
let seccompFile: string;

beforeAll(async () => {
  forker = await startSandboxForker();
  dir = await mkdtemp(join(tmpdir(), 'runbox-forker-'));
  // Any readable file does for descriptor 3 when no bwrap reads it.
  seccompFile = join(dir, 'program.bpf');
  await writeFile(seccompFile, 'bpf');
});
afterAll(async () => {
  await forker.close();
  await rm(dir, { recursive: true, force: true });
});

function request(
  args: readonly string[],
  launch: Partial<ForkRequest['launch']> = {},
): ForkRequest {
  return {
    file: '/usr/bin/python3',
    args: ['-c', ...args],
    env: { PATH: '/usr/bin:/bin', LC_ALL: 'C.UTF-8' },
    seccompFile,
    readyFd: false,
    launch: {
      openFiles: 256,
      fileSizeBytes: 1024 * 1024,
      cgroupJoinFiles: [],
      layer: null,
      runAs: null,
      ...launch,
    },
  };
}

async function collect(proc: ForkedProcess): Promise<{ stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  proc.status.resume();
  proc.stdin.end();
  await proc.closed;
  return { stdout, stderr };
}

const INSPECT = `
import json, os, resource, signal
def mask(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1], 16)
print(json.dumps({
    "fds": sorted(int(fd) for fd in os.listdir("/proc/self/fd")),
    "fd3": os.readlink("/proc/self/fd/3"),
    "ignored": mask("SigIgn:"), "blocked": mask("SigBlk:"),
    "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
    "fsize": resource.getrlimit(resource.RLIMIT_FSIZE),
    "core": resource.getrlimit(resource.RLIMIT_CORE),
    "nnp": [l.split()[1] for l in open("/proc/self/status") if l.startswith("NoNewPrivs")][0],
    "ids": [os.getresuid(), os.getresgid(), os.getgroups()],
    "env": dict(os.environ),
}))
`;

describe('the forker', () => {
  it('starts the program with only its descriptors, default signals, the rlimits and no_new_privs', async () => {
    const proc = await forker.spawn(
      request([INSPECT], {
        openFiles: 300,
        fileSizeBytes: 4096,
        ...(asRoot ? { runAs: { uid: 65321, gid: 65322 } } : {}),
      }),
    );
    expect(proc.pid).toBeGreaterThan(1);
    const { stdout, stderr } = await collect(proc);
    expect(stderr).toBe('');
    expect(proc.exitCode).toBe(0);
    const seen = JSON.parse(stdout) as Record<string, unknown>;
    // 0-2 the streams, 3 the seccomp program, 4 the status, and the one listdir opened: 5.
    expect(seen['fds']).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen['fd3']).toBe(seccompFile);
    // Python itself ignores SIGPIPE and SIGXFSZ when it starts: what is left is the program's.
    expect(seen['blocked']).toBe(0);
    expect(seen['nofile']).toEqual([300, 300]);
    expect(seen['fsize']).toEqual([4096, 4096]);
    expect(seen['core']).toEqual([0, 0]);
    expect(seen['nnp']).toBe('1');
    expect(seen['env']).toEqual({ PATH: '/usr/bin:/bin', LC_ALL: 'C.UTF-8' });
    if (asRoot) expect(seen['ids']).toEqual([[65321, 65321, 65321], [65322, 65322, 65322], []]);
  });

  it('hands a shell the default signal dispositions: SIGPIPE and SIGXFSZ end it', async () => {
    const proc = await forker.spawn({
      ...request([]),
      file: '/bin/sh',
      args: [
        '-c',
        `grep -E "^Sig(Ign|Blk)" /proc/self/status; head -c 8192 /dev/zero > ${join(dir, 'big')}`,
      ],
      launch: { ...request([]).launch, fileSizeBytes: 1024 },
    });
    const { stdout } = await collect(proc);
    expect(stdout).toBe('SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n');
    // The file-size limit kills with SIGXFSZ (25), as for a program started by the server.
    expect(proc.exitCode).toBe(128 + 25);
  });

  it('ends a child whose launch fails with 125 and the reason on its stderr', async () => {
    const proc = await forker.spawn(
      request(['print(1)'], { cgroupJoinFiles: [join(dir, 'no-such-cgroup', 'tasks')] }),
    );
    const { stdout, stderr } = await collect(proc);
    expect(stdout).toBe('');
    expect(proc.exitCode).toBe(125);
    expect(stderr).toMatch(/^runbox launcher: .*No such file or directory/);
  });

  it('ends a child whose program cannot be executed with 127', async () => {
    const proc = await forker.spawn({ ...request([]), file: join(dir, 'no-such-program') });
    const { stderr } = await collect(proc);
    expect(proc.exitCode).toBe(127);
    expect(stderr).toContain('No such file or directory');
  });

  it('signals a running child, passes stdin, and reports the signal', async () => {
    const proc = await forker.spawn(
      request([
        'import sys, time\nprint(sys.stdin.readline().strip(), flush=True)\ntime.sleep(60)',
      ]),
    );
    let stdout = '';
    const line = new Promise<void>((resolve) =>
      proc.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes('\n')) resolve();
      }),
    );
    proc.status.resume();
    proc.stderr.resume();
    proc.stdin.write('hello\n');
    await line;
    expect(stdout).toBe('hello\n');
    expect(proc.kill('SIGKILL')).toBe(true);
    await proc.exited;
    expect(proc.signalCode).toBe('SIGKILL');
    expect(proc.kill('SIGKILL')).toBe(false);
  });

  it("ignores what is sent to the server's process group: the server ends its runs itself", async () => {
    const proc = await forker.spawn(
      request(['import time\nprint("up", flush=True)\ntime.sleep(60)']),
    );
    const up = new Promise<void>((resolve) => proc.stdout.once('data', () => resolve()));
    proc.status.resume();
    proc.stderr.resume();
    await up;
    const forkerPid = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .find((pid) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return (
            readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('sandbox-forker.py') &&
            stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(process.pid)
          );
        } catch {
          return false;
        }
      });
    expect(forkerPid).toBeDefined();
    // In a session of its own: not in this process's group.
    expect(readFileSync(`/proc/${forkerPid}/stat`, 'utf8').split(') ')[1]?.split(' ')[3]).toBe(
      forkerPid,
    );
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
      process.kill(Number(forkerPid), signal);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(proc.ended).toBe(false);
    expect(proc.kill('SIGKILL')).toBe(true);
    await proc.exited;
  });

  it('takes streams from the server only: another process that connects is dropped', async () => {
    // The forker's abstract socket, as the server's streams name it.
    const name = await new Promise<string>((resolve, reject) => {
      const ps = spawn('ss', ['-xlpn'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      ps.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      ps.on('exit', () => {
        const found = new RegExp(`@(runbox-forker-${process.pid}-[0-9a-f]+)`).exec(out)?.[1];
        if (found) resolve(found);
        else reject(new Error('the forker socket was not listed'));
      });
    });
    const outsider = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').connect({ path: '\\0${name}' });
         s.on('connect', () => s.write('000000000000000i'));
         s.on('error', () => {});
         const say = (word) => process.stdout.write(word, () => process.exit(0));
         s.on('close', () => say('dropped'));
         setTimeout(() => say('kept'), 3000);`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let said = '';
    outsider.stdout.on('data', (chunk: Buffer) => (said += chunk.toString()));
    await new Promise((resolve) => outsider.once('exit', resolve));
    expect(said.trim()).toBe('dropped');
  });
});
