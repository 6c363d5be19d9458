import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLES_DIR } from '../../api/test/support/server.ts';
import { runCli, startCli } from './support/cli-process.ts';
import { API_KEY, startCliTestServer, type CliTestServer } from './support/cli-server.ts';
import { startCuttingProxy } from './support/cutting-proxy.ts';
import { claimTestUid } from '../../executor/test/support/test-uid.ts';

/**
 * `runbox-cli run` as a user runs it: the CLI a child process of the machine's Node 20, the server
 * a real runbox process (one run at a time, so a second run waits in the queue; uploads capped at
 * 64 KiB, so one can be refused for its size).
 */

// This file's sandbox uid (the CLI's test files take 64970..64979).
const SANDBOX_UID = claimTestUid(64_900, 100);
const UPLOAD_MAX_BYTES = 64 * 1024;

let server: CliTestServer;
let workDir: string;

beforeAll(async () => {
  server = await startCliTestServer('run', SANDBOX_UID, {
    RUNBOX_CONCURRENCY: '1',
    RUNBOX_UPLOAD_MAX_BYTES: String(UPLOAD_MAX_BYTES),
  });
  workDir = await mkdtemp(join(tmpdir(), 'runbox-cli-run-'));
});
afterAll(async () => {
  await server?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** A file in this file's work directory. */
async function file(name: string, text: string): Promise<string> {
  const path = join(workDir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

const keyed = (): { url: string; apiKey: string } => ({ url: server.url, apiKey: API_KEY });

interface RunView {
  id: string;
  state: string;
}

async function runningRuns(): Promise<RunView[]> {
  const { json } = await server.rest('GET', '/runs?states=running');
  return (json as { runs: RunView[] }).runs;
}

async function waitUntilRunning(id: string): Promise<void> {
  for (;;) {
    const { json } = await server.rest('GET', `/runs/${id}`);
    if ((json as RunView).state === 'running') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('runbox-cli run <file>', () => {
  it('prints each line as it comes: the first while the run is still running', async () => {
    const script = await file(
      'live.py',
      'import time\nprint("first line", flush=True)\ntime.sleep(2)\nprint("second line")\n',
    );
    const cli = startCli(['run', script], keyed());
    await cli.waitFor('stdout', 'first line\n');
    // The first line is out, the second not yet: the run is still running on the server.
    expect(cli.stdout()).toBe('first line\n');
    const running = await runningRuns();
    expect(running).toHaveLength(1);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toBe('first line\nsecond line\n');
    expect(cli.stderr()).toBe('');
  });

  it('joins a line printed in pieces and keeps stdout and stderr apart', async () => {
    const script = await file(
      'pieces.py',
      [
        'import sys, time',
        'sys.stdout.write("slow "); sys.stdout.flush(); time.sleep(0.3)',
        'print("to stderr", file=sys.stderr, flush=True)',
        'sys.stdout.write("line\\n"); sys.stdout.write("x" * 40000 + "\\n")',
        'sys.stdout.write("no newline at the end")',
      ].join('\n'),
    );
    const result = await runCli(['run', script], keyed());
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`slow line\n${'x'.repeat(40_000)}\nno newline at the end`);
    expect(result.stderr).toBe('to stderr\n');
  });

  it("exits with the program's exit code, and says how the run ended on stderr", async () => {
    const script = await file('three.sh', 'echo out; echo err >&2; exit 3\n');
    const result = await runCli(['run', script], keyed());
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toMatch(/^err\nrunbox-cli: run \S+ failed, exit code 3/);
  });

  it('exits 124 for a run past its wall-time limit', async () => {
    const script = await file(
      'sleepy.py',
      'import time\nprint("started", flush=True)\ntime.sleep(60)\n',
    );
    const result = await runCli(['run', script, '--limit', 'wallTimeMs=1000'], keyed());
    expect(result.code).toBe(124);
    expect(result.stdout).toBe('started\n');
    expect(result.stderr).toMatch(/runbox-cli: run \S+ timed_out/);
  });

  it('gives the run stdin from a file or from its own stdin', async () => {
    const script = await file('echo.py', 'import sys\nprint(sys.stdin.read().upper(), end="")\n');
    const input = await file('input.txt', 'from a file\n');
    const fromFile = await runCli(['run', script, '--stdin', input], keyed());
    expect(fromFile).toMatchObject({ code: 0, stdout: 'FROM A FILE\n' });
    const piped = await runCli(['run', script, '--stdin', '-'], { ...keyed(), stdin: 'piped\n' });
    expect(piped).toMatchObject({ code: 0, stdout: 'PIPED\n' });
  });

  it('passes the arguments after -- to the program', async () => {
    const script = await file('argv.py', 'import sys\nprint(sys.argv[1:])\n');
    const result = await runCli(['run', script, '--', 'two words', '--flag', '-x'], keyed());
    expect(result).toMatchObject({ code: 0, stdout: "['two words', '--flag', '-x']\n" });
  });

  it('takes the language from --lang when the extension says nothing', async () => {
    const script = await file('no-extension', 'console.log(6 * 7)\n');
    const refused = await runCli(['run', script], keyed());
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/give --lang/);
    const result = await runCli(['run', script, '--lang', 'javascript'], keyed());
    expect(result).toMatchObject({ code: 0, stdout: '42\n' });
  });

  it('prints the ended run with its output as JSON with --json, and still mirrors the exit code', async () => {
    const script = await file('json.sh', 'echo out; echo err >&2; exit 5\n');
    const result = await runCli(['run', script, '--json'], keyed());
    expect(result.code).toBe(5);
    expect(result.stderr).toBe('');
    const run = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(run).toMatchObject({
      kind: 'snippet',
      language: 'bash',
      state: 'failed',
      exitCode: 5,
      ended: true,
      stdout: 'out\n',
      stderr: 'err\n',
      stdoutTruncated: false,
    });
    expect(run.id).toEqual(expect.any(String));
  });

  it('cancels the run on Ctrl-C and exits 130', async () => {
    const script = await file(
      'forever.py',
      'import time\nprint("up", flush=True)\ntime.sleep(60)\n',
    );
    const cli = startCli(['run', script], keyed());
    await cli.waitFor('stdout', 'up\n');
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(130);
    const id = /cancelling run (\S+)/.exec(cli.stderr())?.[1];
    expect(id).toBeDefined();
    const { json } = await server.rest('GET', `/runs/${id}`);
    expect((json as RunView).state).toBe('cancelled');
  });

  it('shows the place in the queue on stderr while the run waits, and stdout stays clean', async () => {
    // The server runs one at a time: this run holds the place.
    const blocker = await server.rest('POST', '/runs', {
      kind: 'snippet',
      language: 'bash',
      code: 'sleep 60\n',
    });
    const blockerId = (blocker.json as RunView).id;
    await waitUntilRunning(blockerId);
    const script = await file('after.sh', 'echo my turn\n');
    const cli = startCli(['run', script], keyed());
    await cli.waitFor('stderr', /runbox-cli: queued: position 1\b/);
    expect(cli.stdout()).toBe('');
    await server.rest('POST', `/runs/${blockerId}/cancel`);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toBe('my turn\n');
  });

  it('resumes a dropped event stream with Last-Event-ID: nothing missed, nothing twice', async () => {
    const proxy = await startCuttingProxy(server.url, (relayed) => relayed.includes('"before"'));
    try {
      const script = await file(
        'resume.py',
        'import time\nprint("before", flush=True)\ntime.sleep(1)\nprint("after")\n',
      );
      const result = await runCli(['run', script], { url: proxy.url, apiKey: API_KEY });
      expect(proxy.cut()).toBe(true);
      expect(result).toMatchObject({ code: 0, stdout: 'before\nafter\n' });
      expect(result.stderr).toMatch(/resuming/);
      expect(proxy.eventRequests.length).toBeGreaterThanOrEqual(2);
      expect(proxy.eventRequests[0]).not.toMatch(/last-event-id/i);
      expect(proxy.eventRequests[1]).toMatch(/^last-event-id: [1-9]\d*$/im);
    } finally {
      await proxy.close();
    }
  });
});

describe('runbox-cli run <folder>', () => {
  it('uploads the folder and runs the tool its runbox.json names', async () => {
    const result = await runCli(['run', join(EXAMPLES_DIR, 'pytest-project')], keyed());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\b4 passed\b/);
  });

  it('packs nested folders, long and non-ASCII paths, and runs the entry with --tool', async () => {
    const project = join(workDir, 'project');
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
    await file('project/run.sh', 'find . -type f | sort\ncat data/é.txt\n');
    await file('project/data/é.txt', 'unicode path\n');
    await file(`project/${deep}/long.txt`, 'x\n');
    await file('project/.git/HEAD', 'not uploaded\n');
    const result = await runCli(['run', project, '--tool', 'bash'], keyed());
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      ['./data/é.txt', `./${deep}/long.txt`, './run.sh', 'unicode path', ''].join('\n'),
    );
  });

  it('runs one file with a tool, the file as its entry', async () => {
    const script = await file('single/main.py', 'print("from the entry")\n');
    const result = await runCli(['run', script, '--tool', 'python'], keyed());
    expect(result).toMatchObject({ code: 0, stdout: 'from the entry\n' });
  });

  it('keeps a link inside the folder (the server keeps it) and drops one pointing outside', async () => {
    const project = join(workDir, 'linked');
    await file('linked/lib/real_helper.py', 'def say():\n    print("through the link")\n');
    await file('linked/main.py', 'import helper\nhelper.say()\n');
    await symlink('lib/real_helper.py', join(project, 'helper.py'));
    await symlink('/etc/passwd', join(project, 'passwd'));
    const result = await runCli(
      ['run', project, '--tool', 'python', '--entry', 'main.py'],
      keyed(),
    );
    expect(result.stderr).toBe('');
    expect(result).toMatchObject({ code: 0, stdout: 'through the link\n' });
  });

  it("prints the server's refusal of an upload (two names one folder cannot hold), and exits 2", async () => {
    await file('collide/main.py', 'print(1)\n');
    await file('collide/README', 'one\n');
    await file('collide/readme', 'two\n');
    const result = await runCli(['run', join(workDir, 'collide'), '--tool', 'python'], keyed());
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^runbox-cli: 400 UPLOAD_REJECTED \(rule name-collision, entry /);
  });

  it('asks for the environment --environment names, and prints the refusal of one this server cannot install', async () => {
    // The test server allows no package registry: the request reaches it, and it says why not.
    await file('needs-deps/main.py', 'import tiny\n');
    await file('needs-deps/requirements.txt', 'tiny==1.0\n');
    const result = await runCli(
      ['run', join(workDir, 'needs-deps'), '--tool', 'python', '--environment', 'project'],
      keyed(),
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^runbox-cli: 400 ENVIRONMENT_REFUSED .*no package registry is allowed on this server.*RUNBOX_PIP_INDEX_URL/,
    );
  });

  it("prints the server's refusal of an upload over its size limit, and exits 2", async () => {
    await file('large/main.py', 'print(1)\n');
    // Random bytes do not compress: the archive is over the server's 64 KiB.
    await writeFile(join(workDir, 'large/blob.bin'), randomBytes(2 * UPLOAD_MAX_BYTES));
    const result = await runCli(['run', join(workDir, 'large'), '--tool', 'python'], keyed());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(
        `^runbox-cli: 413 UPLOAD_REJECTED \\(rule upload-too-large, limit ${UPLOAD_MAX_BYTES}\\): `,
      ),
    );
  });

  it('asks for a tool when a folder has no runbox.json', async () => {
    await file('toolless/main.py', 'print(1)\n');
    const result = await runCli(['run', join(workDir, 'toolless')], keyed());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/name a tool with --tool/);
  });
});

describe('runbox-cli run, refused', () => {
  it('names an unknown API key in one line and exits 2', async () => {
    const script = await file('hello.py', 'print("hello")\n');
    const result = await runCli(['run', script], {
      url: server.url,
      apiKey: 'not-a-key-of-this-server-0123456789',
    });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      /^runbox-cli: 401 \S+ \(field authorization, rule known-api-key\): .+\n$/,
    );
  });

  it('names a limit out of range with its field and rule', async () => {
    const script = await file('hello.py', 'print("hello")\n');
    const result = await runCli(['run', script, '--limit', 'wallTimeMs=1'], keyed());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^runbox-cli: 400 LIMIT_OUT_OF_RANGE \(field wallTimeMs, rule limit_out_of_range.*\): /,
    );
  });

  it('names the URL it could not reach and exits 1', async () => {
    const script = await file('hello.py', 'print("hello")\n');
    // A port nobody listens on: the proxy's, once closed.
    const closed = await startCuttingProxy(server.url, () => false);
    await closed.close();
    const result = await runCli(['run', script], { url: closed.url, apiKey: API_KEY });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^runbox-cli: cannot reach ${closed.url}/api/v1/runs: .*ECONNREFUSED`),
    );
  });
});
