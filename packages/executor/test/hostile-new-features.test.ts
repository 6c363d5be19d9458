import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  projectRun,
  startEnvironmentHarness,
  storedKeys,
  type EnvironmentHarness,
  type Ended,
} from './support/environment-harness.ts';
import { startPackageIndex, type PackageIndex } from './support/package-index.ts';

/**
 * HOSTILE: the forker, terminals and dependency environments attacked from inside, with real
 * programs in the real sandbox. Each test is an attack that must fail; each says how it would
 * show if the defence were missing (a recorder that got a connection, a file that changed, a
 * size that moved).
 *
 * The network attacks aim at `recorder`, a TCP server on the host's loopback that counts every
 * connection, and at `elsewhere`, a second package index that has what the attacks ask for (so
 * that an install that reached it would succeed). Both must end the file with nothing received.
 */

const asRoot = process.getuid?.() === 0;
const suffix = randomBytes(3).toString('hex');
/** A path in the host's /tmp an install script tries to create. */
const hostTmpMarker = join(tmpdir(), `runbox-hostile-new-marker-${suffix}`);
let index: PackageIndex;
let elsewhere: PackageIndex;
let recorder: Server;
let recorderPort: number;
const recorded: string[] = [];
let harness: EnvironmentHarness;

const PAD = "module.exports = { pad: (s) => '[' + s + ']' };\n";

beforeAll(async () => {
  if (!asRoot) return;
  index = await startPackageIndex({
    python: [
      {
        name: 'tiny-greeting',
        version: '1.0.0',
        modules: { 'tiny_greeting/__init__.py': 'V=1\n' },
      },
    ],
    npm: [{ name: 'tiny-pad', version: '1.2.3', files: { 'index.js': PAD }, main: 'index.js' }],
  });
  elsewhere = await startPackageIndex({
    python: [
      { name: 'elsewhere-pkg', version: '1.0.0', modules: { 'elsewhere_pkg.py': 'X = 1\n' } },
      {
        name: 'tiny-greeting',
        version: '9.9.9',
        modules: { 'tiny_greeting/__init__.py': 'V=9\n' },
      },
    ],
    npm: [
      { name: 'elsewhere-pad', version: '1.0.0', files: { 'index.js': PAD }, main: 'index.js' },
    ],
  });
  recorder = createServer((socket) => {
    const at = recorded.push('') - 1;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (recorded[at] += chunk));
    socket.on('error', () => {});
    socket.end();
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const address = recorder.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  recorderPort = address.port;
  harness = await startEnvironmentHarness('hostile-new', {
    settings: {
      pipIndexUrl: index.pipIndexUrl,
      npmRegistry: index.npmRegistry,
      installWallTimeMs: 120_000,
    },
    concurrency: 3,
  });
}, 60_000);

afterAll(async () => {
  if (!asRoot) return;
  const left = await harness.close();
  await index.close();
  await elsewhere.close();
  await new Promise((resolve) => recorder.close(resolve));
  await rm(hostTmpMarker, { recursive: true, force: true });
  // Whatever the attacks tried, nothing outside the allowed index heard from them.
  expect(recorded).toEqual([]);
  expect(elsewhere.requests).toEqual([]);
  expect(left).toEqual([]);
});

/** Follows a run's stdout; `until(text)` waits for it to show, `end()` for the result. */
function follow(runId: string): { until(text: string): Promise<string>; end(): Promise<Ended> } {
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: (all: string) => void }[] = [];
  const ended = (async (): Promise<Ended> => {
    for await (const event of harness.executor.events(runId)) {
      if (event.type === 'output' && event.stream === 'stdout') {
        stdout += event.text + (event.partial ? '' : '\n');
        for (const waiter of waiters.splice(0))
          if (stdout.includes(waiter.text)) waiter.resolve(stdout);
          else waiters.push(waiter);
      }
      if (event.type === 'output' && event.stream === 'stderr') stderr += event.text;
      if (event.type === 'end') return { result: event.result, stdout, stderr };
    }
    throw new Error('no end');
  })();
  return {
    until: (text) =>
      stdout.includes(text)
        ? Promise.resolve(stdout)
        : new Promise((resolve) => waiters.push({ text, resolve })),
    end: () => ended,
  };
}

/** The JSON a program printed after `label `, on one line. */
function reportOf<T>(stdout: string, label: string): T {
  const match = new RegExp(`${label} (\\{.*\\})\\r?\\n`).exec(stdout);
  if (!match?.[1]) throw new Error(`no ${label} in ${JSON.stringify(stdout.slice(0, 2000))}`);
  return JSON.parse(match[1]) as T;
}

/** The forker's abstract socket names for this process, as the host's /proc/net/unix lists them. */
function forkerNames(): string[] {
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/).at(-1) ?? '')
    .filter((name) => name.startsWith(`@runbox-forker-${process.pid}-`))
    .map((name) => name.slice(1));
}

describe.runIf(asRoot)('HOSTILE: the forker', () => {
  it("a run cannot reach the forker's abstract socket, nor see the host's Unix sockets", async () => {
    const [name] = forkerNames();
    expect(name).toMatch(/^runbox-forker-\d+-[0-9a-f]{12}$/);
    const probe = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect("\\0" + sys.argv[1])
    s.settimeout(2)
    print("connected", s.recv(16))
except OSError as error:
    print("refused", error.errno)
`;
    // From the host, the same name is there: a process that is not the server gets in, and is
    // dropped at once (SO_PEERCRED) before it could send a header. So the name is right.
    const fromHost = spawnSync('python3', ['-c', probe, name ?? ''], { encoding: 'utf8' });
    expect(fromHost.stdout.trim()).toBe("connected b''");
    const inside = await harness.runToEnd({
      kind: 'snippet',
      language: 'python',
      code: `${probe}
unix = open("/proc/net/unix").read()
print("listed", "runbox-forker" in unix, len(unix.splitlines()) - 1)
`,
      args: [name ?? ''],
    });
    expect(inside.result.state).toBe('completed');
    // ECONNREFUSED: no such name in the run's own network namespace.
    expect(inside.stdout).toContain('refused 111');
    // The run's /proc/net/unix is its namespace's: not the forker, not the host's other sockets.
    expect(inside.stdout).toMatch(/listed False \d+/);
    const listed = Number(/listed False (\d+)/.exec(inside.stdout)?.[1]);
    expect(listed).toBeLessThan(5);
  });
});

describe.runIf(asRoot)('HOSTILE: terminals', () => {
  it("the program cannot take the wrapper's resize descriptor to change its terminal", async () => {
    const code = `
import ctypes, errno, json, os, signal, time
report = {}
report["own"] = sorted(int(n) for n in os.listdir("/proc/self/fd"))
parent = os.getppid()
report["parent"] = [a.decode() for a in open(f"/proc/{parent}/cmdline", "rb").read().split(b"\\0")]
fds = {}
try:
    for n in os.listdir(f"/proc/{parent}/fd"):
        try:
            fds[n] = os.readlink(f"/proc/{parent}/fd/{n}")
        except OSError as error:
            fds[n] = errno.errorcode[error.errno]
except OSError as error:
    fds = errno.errorcode[error.errno]
report["parentFds"] = fds
try:
    os.open(f"/proc/{parent}/fd/5", os.O_RDWR)
    report["open5"] = "opened"
except OSError as error:
    report["open5"] = errno.errorcode[error.errno]
libc = ctypes.CDLL(None, use_errno=True)
pidfd = libc.syscall(434, parent, 0)  # pidfd_open
stolen = libc.syscall(438, pidfd, 5, 0) if pidfd >= 0 else -1  # pidfd_getfd
report["getfd"] = "got" if stolen >= 0 else errno.errorcode[ctypes.get_errno()]
if stolen >= 0:
    # A fake resize, written where the wrapper reads them... from the other end: it goes to the
    # server, which reads nothing from this descriptor.
    os.write(stolen, b'{"rows": 3, "cols": 11}\\n')
    time.sleep(0.3)
report["size"] = list(os.get_terminal_size(1))
print("REPORT " + json.dumps(report), flush=True)
signal.signal(signal.SIGWINCH, lambda *_: print("resized", *os.get_terminal_size(1), flush=True))
input("go? ")
print("size at end", *os.get_terminal_size(1))
`;
    const run = await harness.executor.submit({
      kind: 'snippet',
      language: 'python',
      code,
      tty: { cols: 80, rows: 24 },
    });
    const seen = follow(run.id);
    const stdout = await seen.until('go? ');
    const report = reportOf<{
      own: number[];
      parent: string[];
      parentFds: Record<string, string> | string;
      open5: string;
      getfd: string;
      size: number[];
    }>(stdout, 'REPORT');
    // Its own descriptors: the terminal (0, 1, 2) and the listing's own. No 3, 4 or 5.
    expect(report.own).toEqual([0, 1, 2, 3]);
    expect(report.parent.some((arg) => arg.endsWith('/tty_run.py'))).toBe(true);
    // The wrapper is not dumpable: its descriptors are not the program's to list or open, though
    // they share a uid; and the seccomp filter denies pidfd_getfd, the other way to copy one.
    expect(report.parentFds).toBe('EACCES');
    expect(report.open5).toBe('EACCES');
    expect(report.getfd).toBe('EPERM');
    expect(report.size).toEqual([80, 24]);
    // The server's own resize still arrives.
    expect(harness.executor.resize(run.id, { cols: 100, rows: 30 })).toBe(true);
    await seen.until('resized 100 30');
    harness.executor.sendInput(run.id, '\r');
    const ended = await seen.end();
    expect(ended.result.state).toBe('completed');
    expect(ended.stdout).toContain('size at end 100 30');
    expect(ended.stdout).not.toContain('11 3');
  });

  it("a program that copies the wrapper's descriptor 5 cannot push bytes past its output limit to the server", async () => {
    // The server reads the control descriptor only to see it close, and throws away whatever
    // arrives: bytes sent there would be counted by no limit. pidfd_getfd is denied (see above);
    // were it not, the program would write as much as it can in 3 s.
    const ended = await harness.runToEnd({
      kind: 'snippet',
      language: 'python',
      code: `
import ctypes, errno, os, time
libc = ctypes.CDLL(None, use_errno=True)
pidfd = libc.syscall(434, os.getppid(), 0)
stolen = libc.syscall(438, pidfd, 5, 0) if pidfd >= 0 else -1
sent = 0
if stolen >= 0:
    os.set_blocking(stolen, False)
    chunk = b"x" * 65536
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and sent < 64 * 1024 * 1024:
        try:
            sent += os.write(stolen, chunk)
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            break
print("sent", sent)
`,
      tty: { cols: 80, rows: 24 },
      limits: { outputBytes: 64 * 1024, wallTimeMs: 20_000 },
    });
    const sent = Number(/sent (\d+)/.exec(ended.stdout)?.[1]);
    expect(Number.isInteger(sent)).toBe(true);
    expect(sent).toBeLessThanOrEqual(1024 * 1024);
  });

  it('refuses TIOCSTI and TIOCLINUX on the terminal (the host would allow TIOCSTI)', async () => {
    // Kernels with dev.tty.legacy_tiocsti=1 (this one) allow TIOCSTI to the terminal's owner:
    // there only seccomp stops it.
    const ended = await harness.runToEnd({
      kind: 'snippet',
      language: 'python',
      code: `
import errno, fcntl, os, termios
print("tty", os.isatty(0))
for name, request, arg in (("TIOCSTI", termios.TIOCSTI, b"x"), ("TIOCLINUX", 0x541C, b"\\x0b")):
    try:
        fcntl.ioctl(0, request, arg)
        print(name, "allowed")
    except OSError as error:
        print(name, errno.errorcode[error.errno])
`,
      tty: { cols: 80, rows: 24 },
    });
    expect(ended.result.state).toBe('completed');
    expect(ended.stdout).toContain('tty True');
    expect(ended.stdout).toContain('TIOCSTI EPERM');
    expect(ended.stdout).toContain('TIOCLINUX EPERM');
  });

  it("a program that floods its terminal ends at the run's output limit", async () => {
    const outputBytes = 64 * 1024;
    const ended = await harness.runToEnd({
      kind: 'snippet',
      language: 'python',
      code: 'import os\nwhile True:\n    os.write(1, b"x" * 65536)\n',
      tty: { cols: 80, rows: 24 },
      limits: { outputBytes, wallTimeMs: 20_000 },
    });
    expect(ended.result.state).toBe('output_limit');
    expect(ended.stdout.length + ended.stderr.length).toBeLessThanOrEqual(outputBytes + 4096);
  });
});

/** A python project whose install is an attack: it must fail, reaching nothing. */
interface InstallAttack {
  name: string;
  files: () => Record<string, string>;
  /** What the run's error says. */
  error: () => RegExp;
}

const refusedBy = (port: () => number): RegExp =>
  new RegExp(`127\\.0\\.0\\.1:${port()}.*not an allowed package registry`);

const PYTHON_ATTACKS: InstallAttack[] = [
  {
    name: '--index-url naming another index',
    files: () => ({ 'requirements.txt': `--index-url ${elsewhere.pipIndexUrl}\nelsewhere-pkg\n` }),
    error: () => refusedBy(() => elsewhere.port),
  },
  {
    name: '-f (find-links) to another server',
    files: () => ({
      'requirements.txt': `-f ${elsewhere.url}/simple/tiny-greeting/\ntiny-greeting==9.9.9\n`,
    }),
    error: () => refusedBy(() => elsewhere.port),
  },
  {
    name: 'a direct URL requirement',
    files: () => ({
      'requirements.txt': `elsewhere-pkg @ ${elsewhere.url}/files/elsewhere_pkg-1.0.0-py3-none-any.whl\n`,
    }),
    error: () => refusedBy(() => elsewhere.port),
  },
  {
    name: 'a git+http URL',
    files: () => ({
      'requirements.txt': `git+http://127.0.0.1:${recorderPort}/repo.git#egg=repo\n`,
    }),
    error: () => /installing environment "project" failed \(exit status \d+\)/,
  },
  {
    name: '-c and -r naming URLs',
    files: () => ({
      'requirements.txt': `-c http://127.0.0.1:${recorderPort}/c.txt\n-r http://127.0.0.1:${recorderPort}/r.txt\ntiny-greeting\n`,
    }),
    error: () => refusedBy(() => recorderPort),
  },
  {
    name: 'user info that names the allowed index before another host',
    files: () => ({
      'requirements.txt': `--extra-index-url http://127.0.0.1:${index.port}@127.0.0.1:${elsewhere.port}/simple/\nelsewhere-pkg\n`,
    }),
    error: () => refusedBy(() => elsewhere.port),
  },
  {
    name: 'pyproject dependencies that are pip options (no proxy, another index)',
    files: () => ({
      'pyproject.toml': `[project]\nname = "x"\nversion = "1"\ndependencies = ["--proxy=", "--retries=0", "--index-url=${elsewhere.pipIndexUrl}", "elsewhere-pkg"]\n`,
    }),
    // Without the proxy pip goes direct, and the install's network namespace has no way out.
    error: () => /installing environment "project" failed \(exit status \d+\)/,
  },
];

describe.runIf(asRoot)('HOSTILE: what an install reaches', () => {
  it.concurrent.each(PYTHON_ATTACKS)(
    'python: $name reaches nothing but the allowed index, and fails saying so',
    async ({ name, files, error }) => {
      const dir = await harness.project(`py-${name.replace(/[^a-z]+/g, '-')}`, {
        ...files(),
        'main.py': 'print("never")\n',
      });
      const ended = await harness.runToEnd(projectRun('python', dir));
      expect(ended.result.state).toBe('failed');
      expect(ended.result.error).toMatch(error());
      expect(ended.stdout).not.toContain('never');
      expect(elsewhere.requests).toEqual([]);
      expect(recorded).toEqual([]);
    },
    90_000,
  );

  it('python: -r /etc/passwd reads the sandbox own accounts file, not the host one', async () => {
    const hostAccounts = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .map((line) => line.split(':')[0] ?? '')
      .filter((user) => user !== '' && !['root', 'runner', 'nobody'].includes(user));
    expect(hostAccounts.length).toBeGreaterThan(0);
    const dir = await harness.project('py-etc-passwd', {
      'requirements.txt': '-r /etc/passwd\n',
      'main.py': 'print("never")\n',
    });
    const ended = await harness.runToEnd(projectRun('python', dir));
    expect(ended.result.state).toBe('failed');
    // pip quotes the line it could not read: the sandbox's first account.
    expect(ended.stderr).toMatch(/root:x:0:0/);
    for (const user of hostAccounts) expect(ended.stderr).not.toContain(`${user}:x:`);
  }, 90_000);

  it.concurrent.each([
    {
      name: 'a dependency given as a tarball URL on another server',
      files: (): Record<string, string> => ({
        'package.json': JSON.stringify({
          name: 'url-dep',
          version: '1.0.0',
          dependencies: {
            'elsewhere-pad': `${elsewhere.url}/npm/elsewhere-pad/-/elsewhere-pad-1.0.0.tgz`,
          },
        }),
      }),
    },
    {
      name: 'a lockfile resolved to another server',
      files: (): Record<string, string> => ({
        'package.json': JSON.stringify({
          name: 'lock-elsewhere',
          version: '1.0.0',
          dependencies: { 'elsewhere-pad': '1.0.0' },
        }),
        'package-lock.json': elsewhere.npmLockfile({ 'elsewhere-pad': '1.0.0' }, 'lock-elsewhere'),
      }),
    },
  ])(
    'node: $name reaches nothing but the allowed registry, and fails saying so',
    async ({ name, files }) => {
      const dir = await harness.project(`node-${name.replace(/[^a-z]+/g, '-')}`, {
        ...files(),
        'index.js': 'console.log("never")\n',
      });
      const ended = await harness.runToEnd(projectRun('node', dir));
      expect(ended.result.state).toBe('failed');
      expect(ended.result.error).toMatch(refusedBy(() => elsewhere.port));
      expect(ended.stdout).not.toContain('never');
      expect(elsewhere.requests).toEqual([]);
    },
    90_000,
  );
});

/**
 * The project's own install scripts (npm runs a root package's preinstall and postinstall inside
 * the install's sandbox): everything they try, written down where the later run can read it.
 */
function hostileScript(phase: string): string {
  const code = `
const fs = require('fs'), net = require('net'), http = require('http');
const report = { phase: ${JSON.stringify(phase)}, writes: {} };
const paths = ${JSON.stringify([
    '/opt/runbox-env/python/evil',
    '/opt/runbox-env/evil',
    '/node_modules/evil',
    '/run/runbox-egress/evil',
    '/etc/evil',
    '/usr/evil',
  ])};
for (const path of paths) {
  try { fs.writeFileSync(path, 'x'); report.writes[path] = 'written'; }
  catch (error) { report.writes[path] = error.code; }
}
// The host's /tmp and the store's host path: inside they are the sandbox's own (its /tmp), so a
// write "succeeds" there; the host must not have them afterwards.
for (const path of [STORE + '/evil', HOST_TMP]) {
  try { fs.mkdirSync(path, { recursive: true }); report.writes[path] = 'written'; }
  catch (error) { report.writes[path] = error.code; }
}
// Kept in the workspace but outside env/: must not be stored.
fs.writeFileSync('/workspace/outside-env', 'x');
// Links that leave env/, a FIFO and a setuid file (pip made env/python first): none may reach
// the store as such.
const env = '/workspace/env/python/';
try { fs.symlinkSync('/etc/passwd', env + 'abs-link'); } catch {}
try { fs.symlinkSync('../../../..', env + 'up-link'); } catch {}
try { require('child_process').execFileSync('mkfifo', [env + 'fifo']); } catch {}
fs.writeFileSync(env + 'suid', '#!/bin/sh\\n');
fs.chmodSync(env + 'suid', 0o6755);
const done = [];
const finish = (key) => (value) => {
  report[key] = value;
  done.push(key);
  if (done.length === 4) {
    fs.writeFileSync('/workspace/hostile-' + report.phase + '.json', JSON.stringify(report));
    process.exit(0);
  }
};
// Straight to the host's loopback: the install's network namespace has its own.
const direct = net.connect(RECORDER, '127.0.0.1');
direct.on('connect', () => { direct.destroy(); finish('direct')('connected'); });
direct.on('error', (error) => finish('direct')(error.code));
// Through the egress socket itself, to a server not on the list.
http.get({ socketPath: '/run/runbox-egress/p.sock', path: 'http://127.0.0.1:' + RECORDER + '/via-proxy' },
  (res) => { res.resume(); finish('proxy')(res.statusCode); }).on('error', (error) => finish('proxy')(error.code));
// The forker's abstract socket.
const forker = net.connect({ path: '\\0' + FORKER });
forker.on('connect', () => { forker.destroy(); finish('forker')('connected'); });
forker.on('error', (error) => finish('forker')(error.code));
// A daemon that outlives the script (the install must not leave it behind).
const daemon = require('child_process').spawn('sleep', ['600'], { detached: true, stdio: 'ignore' });
daemon.unref();
finish('daemon')(daemon.pid > 0);
`;
  return `"$npm_node_execpath" -e ${shellQuote(code)}`;
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

interface ScriptReport {
  phase: string;
  writes: Record<string, string>;
  direct: string;
  proxy: number | string;
  forker: string;
}

/** A run's program that tampers with the environment it was given, and reports. */
const TAMPER_PY = `
import errno, json, os, sys
report = {}
def attempt(name, action):
    try:
        action()
        report[name] = "done"
    except OSError as error:
        report[name] = errno.errorcode[error.errno]
attempt("write python", lambda: open("/opt/runbox-env/python/tiny_greeting/__init__.py", "w").write("V=666\\n"))
attempt("create python", lambda: open("/opt/runbox-env/python/evil.py", "w").write("x"))
attempt("write node", lambda: open("/node_modules/tiny-pad/index.js", "w").write("module.exports = 666"))
attempt("create node", lambda: open("/node_modules/evil.js", "w").write("x"))
attempt("remove node", lambda: os.unlink("/node_modules/tiny-pad/index.js"))
attempt("rename node", lambda: os.rename("/node_modules/tiny-pad", "/node_modules/gone"))
attempt("chmod node", lambda: os.chmod("/node_modules/tiny-pad/index.js", 0o777))
attempt("link node", lambda: os.symlink("/tmp", "/node_modules/evil-link"))
attempt("mkdir env", lambda: os.mkdir("/opt/runbox-env/evil"))
print("TAMPER " + json.dumps(report))
import tiny_greeting
print("greeting", tiny_greeting.V, tiny_greeting.__file__)
print("pad", open("/node_modules/tiny-pad/index.js").read().strip())
reports = {}
for phase in ("pre", "post"):
    reports[phase] = json.load(open(f"/node_modules/.hostile/{phase}.json"))
print("SCRIPTS " + json.dumps(reports))
print("leftover", sorted(os.listdir("/node_modules")))
`;

describe.runIf(asRoot)('HOSTILE: install scripts and the installed environment', () => {
  it("a project's install scripts get no network and no place to write but env/; the result is read-only, and another project's run cannot change it", async () => {
    const [forker] = forkerNames();
    const prelude = (script: string): string =>
      script
        .replaceAll('RECORDER', String(recorderPort))
        .replace('STORE', JSON.stringify(harness.storeDir))
        .replace('HOST_TMP', JSON.stringify(hostTmpMarker))
        .replace('FORKER', JSON.stringify(forker));
    const packageJson = JSON.stringify({
      name: 'scripted',
      version: '1.0.0',
      dependencies: { 'tiny-pad': '1.2.3' },
      scripts: {
        preinstall: prelude(hostileScript('pre')),
        postinstall: `${prelude(hostileScript('post'))} && mkdir -p node_modules/.hostile && cp /workspace/hostile-pre.json /workspace/hostile-post.json node_modules/.hostile/ && mv node_modules/.hostile/hostile-pre.json node_modules/.hostile/pre.json && mv node_modules/.hostile/hostile-post.json node_modules/.hostile/post.json`,
      },
    });
    const manifests = {
      'requirements.txt': 'tiny-greeting==1.0.0\n',
      'package.json': packageJson,
    };
    const first = await harness.project('scripted-a', { ...manifests, 'main.py': TAMPER_PY });
    const ran = await harness.runToEnd(projectRun('python', first));
    expect(ran.result.error).toBeNull();
    expect(ran.result.state).toBe('completed');

    const scripts = reportOf<Record<'pre' | 'post', ScriptReport>>(ran.stdout, 'SCRIPTS');
    for (const phase of ['pre', 'post'] as const) {
      const report = scripts[phase];
      expect(report.phase).toBe(phase);
      expect(report.direct).toBe('ECONNREFUSED');
      expect(report.proxy).toBe(403);
      expect(report.forker).toBe('ECONNREFUSED');
      for (const path of [
        '/opt/runbox-env/python/evil',
        '/opt/runbox-env/evil',
        '/node_modules/evil',
      ])
        expect(['EROFS', 'ENOENT', 'EACCES'], path).toContain(report.writes[path]);
      expect(report.writes['/run/runbox-egress/evil']).toMatch(/^(EROFS|EACCES)$/);
      expect(report.writes['/etc/evil']).toMatch(/^(EROFS|EACCES)$/);
      expect(report.writes['/usr/evil']).toMatch(/^(EROFS|EACCES)$/);
    }
    // What the scripts made in "the host's /tmp" and "the store" was the sandbox's own /tmp.
    expect(existsSync(hostTmpMarker)).toBe(false);
    expect(existsSync(join(harness.storeDir, 'evil'))).toBe(false);

    // The store holds what the install made under env/, and nothing else: no link that leaves it,
    // no FIFO, no setuid bit, nothing from beside env/.
    const keys = await storedKeys(harness.storeDir);
    expect(keys).toHaveLength(1);
    const stored = join(harness.storeDir, keys[0] ?? '');
    expect((await readdir(stored)).sort()).toEqual(['node_modules', 'python']);
    const python = readdirSync(join(stored, 'python'));
    expect(python).toContain('suid');
    expect(python).not.toContain('abs-link');
    expect(python).not.toContain('up-link');
    expect(python).not.toContain('fifo');
    const walk = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const path = join(dir, entry.name);
        return entry.isDirectory() ? [path, ...walk(path)] : [path];
      });
    for (const path of walk(stored)) {
      const stats = lstatSync(path);
      expect(stats.isFile() || stats.isDirectory() || stats.isSymbolicLink(), path).toBe(true);
      expect(stats.mode & 0o7000, path).toBe(0);
      expect(path).not.toContain('outside-env');
    }

    // The run saw its environment read-only.
    const tamper = reportOf<Record<string, string>>(ran.stdout, 'TAMPER');
    for (const [attempt, outcome] of Object.entries(tamper))
      expect(['EROFS', 'EACCES', 'EPERM'], attempt).toContain(outcome);
    expect(ran.stdout).toContain('greeting 1 /opt/runbox-env/python/tiny_greeting/__init__.py');
    expect(ran.stdout).toContain(`pad ${PAD.trim()}`);

    // Another project, the same manifests: the same environment, cached; its run tampers too.
    const second = await harness.project('scripted-b', { ...manifests, 'main.py': TAMPER_PY });
    const other = await harness.runToEnd(projectRun('python', second));
    expect(other.result.state).toBe('completed');
    expect(other.result.warnings).toContainEqual(expect.objectContaining({ rule: 'cached' }));
    for (const outcome of Object.values(reportOf<Record<string, string>>(other.stdout, 'TAMPER')))
      expect(['EROFS', 'EACCES', 'EPERM']).toContain(outcome);
    // The first project sees exactly what it saw before.
    const again = await harness.runToEnd(projectRun('python', first));
    expect(again.result.state).toBe('completed');
    expect(again.stdout).toContain('greeting 1 /opt/runbox-env/python/tiny_greeting/__init__.py');
    expect(again.stdout).toContain(`pad ${PAD.trim()}`);
    const leftover = (stdout: string): string => /leftover (.*)/.exec(stdout)?.[1] ?? '';
    expect(leftover(again.stdout)).toBe(leftover(ran.stdout));
  }, 120_000);
});
