import { createServer, type Server } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandboxHarness,
  SANDBOX_PATHS,
  leftoversOf,
  type SandboxHarness,
} from './support/sandbox-harness.ts';
import { PROBE_CALLS_MEANT_TO_WORK } from './fixtures/syscall-probe-allowed.ts';

let harness: SandboxHarness;
let hostServer: Server;
let hostPort = 0;

describe.each(SANDBOX_PATHS)('through %s sandboxes', (path) => {
  beforeAll(async () => {
    harness = await createSandboxHarness('kernel', { path });
    hostServer = createServer((socket) => socket.end('host secret\n'));
    await new Promise<void>((resolve) => hostServer.listen(0, '127.0.0.1', resolve));
    const address = hostServer.address();
    hostPort = typeof address === 'object' && address ? address.port : 0;
  });
  afterAll(async () => {
    hostServer.close();
    await harness.close();
  });

  describe('no network', () => {
    it('cannot reach the host loopback, the outside, DNS, or open raw and packet sockets', async () => {
      const code = `
import errno, socket
def attempt(name, fn):
    try:
        fn()
        print(name, "OK")
    except socket.gaierror as e:
        print(name, "gaierror")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, e.errno))
def tcp(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    s.connect((host, port))
def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"x", ("8.8.8.8", 53))
attempt("tcp-host-loopback", lambda: tcp("127.0.0.1", ${hostPort}))
attempt("tcp-outside", lambda: tcp("1.1.1.1", 80))
attempt("udp-outside", udp)
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt("packet", lambda: socket.socket(17, socket.SOCK_RAW, 0))
attempt("netlink", lambda: socket.socket(16, socket.SOCK_RAW, 0))
`;
      const run = await harness.run('python', code);
      expect(run.state).toBe('completed');
      expect(run.stdout.trim().split('\n')).toEqual([
        'tcp-host-loopback ECONNREFUSED',
        'tcp-outside ENETUNREACH',
        'udp-outside ENETUNREACH',
        'dns gaierror',
        'raw EPERM',
        'packet EAFNOSUPPORT',
        'netlink EAFNOSUPPORT',
      ]);
    });
  });

  describe('no privilege', () => {
    it('runs as an unprivileged uid with no capabilities, no_new_privs and a seccomp filter', async () => {
      const run = await harness.run(
        'bash',
        'id -u; id -g; grep -E "^(CapEff|CapPrm|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status; hostname',
      );
      expect(run.stdout.split('\n').map((line) => line.replace(/\s+/g, ' ').trim())).toEqual([
        '1000',
        '1000',
        'CapPrm: 0000000000000000',
        'CapEff: 0000000000000000',
        'CapBnd: 0000000000000000',
        'NoNewPrivs: 1',
        'Seccomp: 2',
        'runbox',
        '',
      ]);
      // Outside, the processes ran as the unprivileged host uid, and none is left.
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('cannot push keystrokes into a terminal with TIOCSTI', async () => {
      const run = await harness.run(
        'python',
        `
import errno, fcntl, termios
try:
    fcntl.ioctl(0, termios.TIOCSTI, b"x")
    print("OK")
except OSError as e:
    print(errno.errorcode[e.errno])
`,
      );
      expect(run.stdout.trim()).toBe('EPERM');
    });

    it('cannot make a user namespace (unshare -Ur) or mount', async () => {
      const run = await harness.run(
        'bash',
        'unshare -Ur true; echo "unshare=$?"; mkdir -p /tmp/m; mount -t tmpfs none /tmp/m; echo "mount=$?"',
      );
      expect(run.stdout).toBe('unshare=1\nmount=32\n');
      expect(run.stderr).toContain('Operation not permitted');
    });

    it('gets EPERM (or ENOSYS, EAFNOSUPPORT) for every call the seccomp policy denies', async () => {
      const probe = readFileSync(join(import.meta.dirname, 'fixtures', 'syscall-probe.py'), 'utf8');
      const run = await harness.run('python', probe);
      expect(run.state).toBe('completed');
      const results = JSON.parse(run.stdout) as Record<string, string>;
      const meantToWork = PROBE_CALLS_MEANT_TO_WORK;
      const denied = Object.entries(results).filter(([name]) => !meantToWork.has(name));
      expect(denied.length).toBeGreaterThan(50);
      expect(denied.filter(([, outcome]) => outcome === 'OK')).toEqual([]);
      expect(results.fork).toBe('OK');
      expect(results.thread).toBe('OK');
      expect(results.ptrace).toBe('EPERM');
      expect(results.clone3).toBe('ENOSYS');
      expect(results.bpf).toBe('EPERM');
      expect(results.io_uring_setup).toBe('EPERM');
      expect(results.keyctl).toBe('EPERM');
      expect(results.unshare).toBe('EPERM');
      expect(results.mount).toBe('EPERM');
    });

    it('still lets ordinary programs fork, thread and use pipes', async () => {
      const run = await harness.run(
        'python',
        `
import subprocess, threading
out = subprocess.run(["sh", "-c", "echo child"], capture_output=True, text=True).stdout
t = threading.Thread(target=lambda: None); t.start(); t.join()
print(out.strip(), "thread-ok")
`,
      );
      expect(run.stdout.trim()).toBe('child thread-ok');
    });
  });
});
