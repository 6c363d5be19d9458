import { randomBytes } from 'node:crypto';
import { resolveLimits } from './limits.ts';
import { runSnippet, type SnippetRunReport } from '../run-path/run-snippet.ts';
import type { SandboxHost } from './sandbox-host.ts';

export interface SelfTestCheck {
  layer: string;
  /** The mechanism in force, e.g. "cgroup v1" or "bwrap --unshare-net". */
  mechanism: string;
  ok: boolean;
  /** What was tried, and on failure what came back instead. */
  detail: string;
}

export interface SelfTestReport {
  ok: boolean;
  checks: SelfTestCheck[];
  startedAt: number;
  durationMs: number;
}

const MiB = 1024 * 1024;

/**
 * One Python program tries to break several layers at once from inside and prints what each
 * attempt got. Every "ok" below is the failure of an attack.
 */
const PROBE = String.raw`
import ctypes, errno, json, os, platform, socket
out = {}
def err(fn):
    try:
        fn()
        return "OK"
    except socket.gaierror:
        return "gaierror"
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))
def tcp():
    s = socket.socket(); s.settimeout(2); s.connect(("1.1.1.1", 80))
out["tcp"] = err(tcp)
out["dns"] = err(lambda: socket.getaddrinfo("example.com", 80))
out["write_root"] = err(lambda: open("/runbox-probe", "w"))
out["write_usr"] = err(lambda: open("/usr/runbox-probe", "w"))
def fill_tmp():
    with open("/tmp/fill", "wb") as f:
        for _ in range(64):
            f.write(b"x" * (1024 * 1024)); f.flush()
out["fill_tmp"] = err(fill_tmp)
files = []
def many_files():
    while True: files.append(open("/dev/null"))
out["nofile"] = err(many_files)
for f in files: f.close()
libc = ctypes.CDLL(None, use_errno=True)
machine = platform.machine()
NR = {"x86_64": {"ptrace": 101, "unshare": 272, "clone3": 435}, "aarch64": {"ptrace": 117, "unshare": 97, "clone3": 435}}[machine]
def call(name, *args):
    ctypes.set_errno(0)
    r = libc.syscall(NR[name], *args)
    return "OK" if r != -1 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
out["ptrace"] = call("ptrace", 0, 0, 0, 0)
out["unshare_user"] = call("unshare", 0x10000000)
out["clone3"] = call("clone3", 0, 0)
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
out["uid"] = os.getuid()
out["cap_eff"] = status["CapEff"].strip()
out["cap_bnd"] = status["CapBnd"].strip()
out["no_new_privs"] = status["NoNewPrivs"].strip()
out["seccomp"] = status["Seccomp"].strip()
env_text = ""
for pid in os.listdir("/proc"):
    if pid.isdigit():
        try: env_text += open(f"/proc/{pid}/environ", "rb").read().decode("utf8", "replace")
        except OSError: pass
out["environ"] = env_text
out["hostname"] = socket.gethostname()
out["pid1"] = open("/proc/1/comm").read().strip()
out["host_processes_visible"] = len([p for p in os.listdir("/proc") if p.isdigit()]) > 10
print(json.dumps(out))
`;

const PIDS_PROBE = String.raw`
import errno, os, time
children = []
result = "no limit"
try:
    for _ in range(64):
        pid = os.fork()
        if pid == 0:
            time.sleep(5); os._exit(0)
        children.append(pid)
except OSError as e:
    result = errno.errorcode[e.errno]
print(result, len(children))
`;

export async function runSelfTest(host: SandboxHost): Promise<SelfTestReport> {
  const startedAt = Date.now();
  const id = randomBytes(4).toString('hex');
  const canaryName = `RUNBOX_SELFTEST_CANARY_${id}`;
  const canaryValue = randomBytes(12).toString('hex');
  const checks: SelfTestCheck[] = [];
  const cgroupName = `cgroup ${host.cgroups.version}`;

  async function probe(
    suffix: string,
    language: 'python' | 'bash',
    code: string,
    limits = {},
  ): Promise<SnippetRunReport & { stdout: string }> {
    let stdout = '';
    const report = await runSnippet(host, {
      runId: `selftest-${id}-${suffix}`,
      language,
      code,
      limits: resolveLimits({ wallTimeMs: 10_000, ...limits }),
      onOutput: (stream, chunk) => {
        if (stream === 'stdout') stdout += chunk.toString('utf8');
      },
    });
    return { ...report, stdout };
  }

  /** A probe's report, or the error that kept it from running, as a value. */
  const attempt = (
    ...args: Parameters<typeof probe>
  ): Promise<Awaited<ReturnType<typeof probe>> | Error> =>
    probe(...args).catch((error: unknown) =>
      error instanceof Error ? error : new Error(String(error)),
    );

  process.env[canaryName] = canaryValue;
  let main: Record<string, unknown> = {};
  let mainError = '';
  try {
    const report = await probe('main', 'python', PROBE, { tmpBytes: 8 * MiB, openFiles: 64 });
    try {
      main = JSON.parse(report.stdout) as Record<string, unknown>;
    } catch {
      mainError = `probe did not run (${report.state}${report.setupError ? `: ${report.setupError}` : ''})`;
    }
  } catch (error) {
    mainError = `probe did not run: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    delete process.env[canaryName];
  }

  const expectValues = (
    layer: string,
    mechanism: string,
    expected: Record<string, unknown>,
  ): void => {
    if (mainError) {
      checks.push({ layer, mechanism, ok: false, detail: mainError });
      return;
    }
    const wrong = Object.entries(expected).filter(([key, value]) => main[key] !== value);
    checks.push({
      layer,
      mechanism,
      ok: wrong.length === 0,
      detail:
        wrong.length === 0
          ? Object.entries(expected)
              .map(([key, value]) => `${key}: ${String(value)}`)
              .join(', ')
          : wrong
              .map(([key, value]) => `${key}: expected ${String(value)}, got ${String(main[key])}`)
              .join(', '),
    });
  };

  expectValues('namespaces', 'bwrap user, pid, net, ipc, uts, cgroup namespaces', {
    hostname: 'runbox',
    pid1: 'tini-static',
    host_processes_visible: false,
  });
  expectValues('network', 'bwrap --unshare-net', { tcp: 'ENETUNREACH', dns: 'gaierror' });
  expectValues('read-only root', 'bwrap --remount-ro /, --ro-bind /usr', {
    write_root: 'EROFS',
    write_usr: 'EROFS',
  });
  expectValues('tmpfs /tmp size', 'bwrap --size --tmpfs /tmp', { fill_tmp: 'ENOSPC' });
  expectValues(
    'uid and capabilities',
    'bwrap --unshare-user --uid 1000 --cap-drop ALL' +
      (host.runAs ? `, host uid ${host.runAs.uid}` : ''),
    {
      uid: 1000,
      cap_eff: '0000000000000000',
      cap_bnd: '0000000000000000',
    },
  );
  expectValues('no-new-privs', 'PR_SET_NO_NEW_PRIVS', { no_new_privs: '1' });
  expectValues('seccomp', `classic BPF filter (${host.seccompArch})`, {
    seccomp: '2',
    ptrace: 'EPERM',
    unshare_user: 'EPERM',
    clone3: 'ENOSYS',
  });
  expectValues('rlimits', 'ulimit nofile, fsize, core', { nofile: 'EMFILE' });
  if (mainError) {
    checks.push({
      layer: 'environment',
      mechanism: 'minimal bwrap environment',
      ok: false,
      detail: mainError,
    });
  } else {
    const leaked =
      String(main.environ).includes(canaryValue) || String(main.environ).includes(canaryName);
    checks.push({
      layer: 'environment',
      mechanism: 'minimal bwrap environment, --clearenv',
      ok: !leaked,
      detail: leaked
        ? 'a variable of the server was readable through /proc/*/environ'
        : 'server variables invisible in /proc/*/environ',
    });
  }

  const memory = await attempt(
    'memory',
    'python',
    'held = []\nwhile True:\n    held.append(bytearray(4 * 1024 * 1024))\n',
    { memoryBytes: 48 * MiB },
  );
  checks.push(
    memory instanceof Error
      ? { layer: 'cgroup memory', mechanism: cgroupName, ok: false, detail: memory.message }
      : {
          layer: 'cgroup memory',
          mechanism: cgroupName,
          ok: memory.state === 'memory_limit',
          detail: `a 48 MiB limit ended an allocation loop as ${memory.state}, peak ${Math.round(memory.usage.peakMemoryBytes / MiB)} MiB`,
        },
  );

  const pids = await attempt('pids', 'python', PIDS_PROBE, { maxProcesses: 16 });
  if (pids instanceof Error) {
    checks.push({ layer: 'cgroup pids', mechanism: cgroupName, ok: false, detail: pids.message });
  } else {
    const [result, count] = pids.stdout.trim().split(' ');
    checks.push({
      layer: 'cgroup pids',
      mechanism: cgroupName,
      ok: result === 'EAGAIN' && Number(count) < 16,
      detail: `fork with a limit of 16 processes: ${result ?? '?'} after ${count ?? '?'} children`,
    });
  }

  const kill = await attempt('kill', 'bash', 'trap "" TERM\nsetsid sleep 60 &\nkill -STOP $$', {
    wallTimeMs: 1_000,
  });
  checks.push(
    kill instanceof Error
      ? {
          layer: 'timeout and kill',
          mechanism: `${cgroupName} freeze + kill`,
          ok: false,
          detail: kill.message,
        }
      : {
          layer: 'timeout and kill',
          mechanism: `${cgroupName} ${host.cgroups.version === 'v1' ? 'freezer + SIGKILL' : 'cgroup.kill'}`,
          ok: kill.state === 'timed_out',
          detail: `a stopped process with a setsid daemon ended as ${kill.state} after ${kill.durationMs} ms`,
        },
  );

  checks.push({
    layer: 'workspace size',
    mechanism: host.workspaces.mechanism === 'tmpfs' ? 'tmpfs per workspace' : 'RLIMIT_FSIZE only',
    ok: true,
    detail:
      host.workspaces.mechanism === 'tmpfs'
        ? 'the workspace is its own sized tmpfs'
        : 'no mount privilege: one file is capped, the total is not (set RUNBOX_WORKSPACE_TMPFS=1 as root)',
  });

  return {
    ok: checks.every((check) => check.ok),
    checks,
    startedAt,
    durationMs: Date.now() - startedAt,
  };
}
