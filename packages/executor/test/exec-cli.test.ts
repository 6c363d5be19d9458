import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxHost } from '../src/sandbox/sandbox-host.ts';
import { claimTestUid } from './support/test-uid.ts';

const EXEC = fileURLToPath(new URL('../src/cli/exec.ts', import.meta.url));
const CGROUP_ROOT = '/sys/fs/cgroup';

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `./runbox exec` without the set-up checks: the CLI itself, as a process of its own. */
function runCli(
  args: string[],
  options: { env: NodeJS.ProcessEnv; stdin?: string },
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [EXEC, ...args], {
      env: options.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** A sandbox directory of this file's own; its v1 group is named for it (sandbox-host.ts). */
function sandboxEnv(label: string, extra: NodeJS.ProcessEnv = {}) {
  const stateDir = join(tmpdir(), `runbox-test-${label}-${randomBytes(3).toString('hex')}`);
  const group = `runbox-${createHash('sha256').update(stateDir).digest('hex').slice(0, 10)}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RUNBOX_SANDBOX_DIR: stateDir,
    RUNBOX_SANDBOX_UID: String(claimTestUid(64_100, 800)),
    ...extra,
  };
  return {
    stateDir,
    env,
    async remove(): Promise<void> {
      await rm(stateDir, { recursive: true, force: true });
      for (const hierarchy of await readdir(CGROUP_ROOT).catch(() => [] as string[])) {
        await rmdir(join(CGROUP_ROOT, hierarchy, group)).catch(() => {});
      }
    },
  };
}

async function mountsUnder(dir: string): Promise<string[]> {
  return (await readFile('/proc/self/mounts', 'utf8'))
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mountPoint) => mountPoint.startsWith(`${dir}/`));
}

describe('./runbox exec', () => {
  const sandbox = sandboxEnv('exec-cli');
  const files = join(sandbox.stateDir, 'code');

  async function file(name: string, content: string): Promise<string> {
    const path = join(files, name);
    await writeFile(path, content);
    return path;
  }

  beforeAll(async () => {
    await rm(files, { recursive: true, force: true });
    await mkdir(files, { recursive: true });
    // The first run on a sandbox directory runs the self-test: done here, outside the tests.
    const first = await runCli(['--lang', 'bash', await file('true.sh', 'true\n')], {
      env: sandbox.env,
    });
    expect(first).toMatchObject({ code: 0, stderr: '' });
  }, 60_000);

  afterAll(async () => {
    await sandbox.remove();
  });

  it('streams the output through and exits 0 when the run completed', async () => {
    const run = await runCli(['--lang', 'python', await file('a.py', 'print(1)\n')], {
      env: sandbox.env,
    });
    expect(run).toEqual({ code: 0, stdout: '1\n', stderr: '' });
  });

  it('gives the run its stdin and prints one JSON object with --json', async () => {
    const run = await runCli(
      ['--lang', 'bash', '--json', await file('hello.sh', 'read -r x; echo "hello $x"\n')],
      { env: sandbox.env, stdin: 'world\n' },
    );
    expect(run.code).toBe(0);
    const result: unknown = JSON.parse(run.stdout);
    expect(result).toEqual({
      status: 'completed',
      exitCode: 0,
      signal: null,
      stdout: 'hello world\n',
      stderr: '',
      durationMs: expect.any(Number),
      usage: { cpuMs: expect.any(Number), peakMemoryBytes: expect.any(Number) },
    });
  });

  it("adds the last expression's value to the JSON object", async () => {
    const run = await runCli(['--lang', 'python', '--json', await file('v.py', '6 * 7\n')], {
      env: sandbox.env,
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', value: 42 });
  });

  it('exits 1 when the program fails, saying how on stderr, and leaves nothing behind', async () => {
    const code = await file('fail.sh', 'echo before; exit 3\n');
    const plain = await runCli(['--lang', 'bash', code], { env: sandbox.env });
    expect(plain).toEqual({ code: 1, stdout: 'before\n', stderr: 'runbox: failed (exit 3)\n' });

    const json = await runCli(['--lang', 'bash', '--json', code], { env: sandbox.env });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'failed', exitCode: 3 });

    // Each process's sandbox files are its own, and gone with it: no directory, no tmpfs.
    expect(await readdir(join(sandbox.stateDir, 'files'))).toEqual([]);
    expect(await mountsUnder(join(sandbox.stateDir, 'files'))).toEqual([]);
  });

  it("runs code that does not parse, and reports the language's own error as the run's failure", async () => {
    const code = await file('broken.py', 'print(\n');
    const plain = await runCli(['--lang', 'python', code], { env: sandbox.env });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/SyntaxError/);
    expect(plain.stderr).toMatch(/runbox: failed \(exit 1\)\n$/);

    const json = await runCli(['--lang', 'python', '--json', code], { env: sandbox.env });
    expect(json.code).toBe(1);
    const result = JSON.parse(json.stdout) as { status: string; stderr: string };
    expect(result.status).toBe('failed');
    expect(result.stderr).toMatch(/SyntaxError/);
  });

  it('leaves the sandbox files of a live server on the same directory alone', async () => {
    const server = await createSandboxHost({
      stateDir: sandbox.stateDir,
      sandboxUid: Number(sandbox.env.RUNBOX_SANDBOX_UID),
      sandboxToolsDir: null,
    });
    try {
      const run = await runCli(['--lang', 'bash', await file('echo.sh', 'echo ok\n')], {
        env: sandbox.env,
      });
      expect(run).toEqual({ code: 0, stdout: 'ok\n', stderr: '' });
      expect(await readdir(join(sandbox.stateDir, 'files'))).toEqual([
        server.files.root.split('/').at(-1),
      ]);
    } finally {
      await server.close();
    }
  });

  it('exits 2 for a usage error, with the usage, and 0 for --help', async () => {
    const code = await file('u.sh', 'echo never\n');
    for (const args of [
      ['--lang', 'cobol', code],
      ['--lang', 'bash'],
      ['--lang', 'bash', code, code],
      ['--lang', 'bash', '--timeout-ms', 'soon', code],
      ['--lang', 'bash', '--timeout-ms', '99999999', code],
    ]) {
      const run = await runCli(args, { env: sandbox.env });
      expect({ args, code: run.code, stdout: run.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(run.stderr).toMatch(/^runbox exec: /);
    }
    const help = await runCli(['--help'], { env: sandbox.env });
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: \.\/runbox exec --lang python\|javascript/);
  });
});

describe('./runbox exec on a host whose self-test fails', () => {
  // This machine's cgroup v2 mount has no controllers: forcing v2 leaves no usable cgroup (as in
  // self-test.test.ts), so the memory and pids layers fail.
  const sandbox = sandboxEnv('exec-cli-unsafe', { RUNBOX_CGROUP: 'v2' });

  afterAll(async () => {
    await sandbox.remove();
  });

  it('refuses to run anything and exits 1', async () => {
    const dir = sandbox.stateDir;
    await mkdir(dir, { recursive: true });
    const code = join(dir, 'marker.sh');
    await writeFile(code, 'echo ran\n');
    const run = await runCli(['--lang', 'bash', code], { env: sandbox.env });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/refusing to run untrusted code: sandbox layers failed/);
  }, 60_000);
});
