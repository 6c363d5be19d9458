import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AUDIT_ARCH,
  SECCOMP_POLICY,
  SYSCALL_TABLES,
  UnsupportedArchError,
  buildSeccompFilter,
  evaluateSeccompFilter,
  hostSeccompArch,
  type SeccompArch,
  type SeccompRule,
  type SeccompVerdict,
} from './seccomp-filter.ts';
import {
  BPF_MAXINSNS,
  decodeBpfProgram,
  encodeBpfProgram,
  type SockFilter,
} from './seccomp-bpf-interpreter.ts';
import { SYSCALL_NAMES, type SyscallName } from './seccomp-syscalls.ts';

const EPERM: SeccompVerdict = { action: 'errno', errno: 1 };
const ENOSYS: SeccompVerdict = { action: 'errno', errno: 38 };
const EAFNOSUPPORT: SeccompVerdict = { action: 'errno', errno: 97 };
const ALLOW: SeccompVerdict = { action: 'allow' };
const KILL: SeccompVerdict = { action: 'kill_process' };

const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_AARCH64 = 0xc00000b7;
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_ARM = 0x40000028;

const programs: Record<SeccompArch, Buffer> = {
  x86_64: buildSeccompFilter('x86_64'),
  aarch64: buildSeccompFilter('aarch64'),
};

function call(arch: SeccompArch, nr: number, args: readonly (bigint | number)[] = []) {
  return evaluateSeccompFilter(programs[arch], {
    arch: arch === 'x86_64' ? AUDIT_ARCH_X86_64 : AUDIT_ARCH_AARCH64,
    nr,
    args: args.map((a) => BigInt(a)),
  });
}

/** x86_64 numbers written out by hand (syscall_64.tbl), independent of seccomp-syscalls.ts. */
const X86_64_DENIED_EPERM: Record<string, number> = {
  ptrace: 101,
  process_vm_readv: 310,
  process_vm_writev: 311,
  keyctl: 250,
  add_key: 248,
  request_key: 249,
  bpf: 321,
  perf_event_open: 298,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  mount: 165,
  umount2: 166,
  pivot_root: 155,
  move_mount: 429,
  open_tree: 428,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
  unshare: 272,
  setns: 308,
  kexec_load: 246,
  kexec_file_load: 320,
  init_module: 175,
  finit_module: 313,
  delete_module: 176,
  reboot: 169,
  swapon: 167,
  swapoff: 168,
  acct: 163,
  open_by_handle_at: 304,
  name_to_handle_at: 303,
  chroot: 161,
  syslog: 103,
  lookup_dcookie: 212,
  quotactl: 179,
  vhangup: 153,
  iopl: 172,
  ioperm: 173,
  uselib: 134,
  nfsservctl: 180,
};

const CLONE_NS_FLAGS: Record<string, number> = {
  CLONE_NEWNS: 0x00020000,
  CLONE_NEWCGROUP: 0x02000000,
  CLONE_NEWUTS: 0x04000000,
  CLONE_NEWIPC: 0x08000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
};
const THREAD_FLAGS = 0x3d0f00; // glibc pthread_create
const SIGCHLD = 17; // fork()
const VFORK_FLAGS = 0x4111; // CLONE_VM | CLONE_VFORK | SIGCHLD (posix_spawn)
const HIGH = 1n << 32n;

function nrOf(arch: SeccompArch, name: SyscallName): number {
  const nr = SYSCALL_TABLES[arch][name];
  if (nr === null) throw new Error(`${name} does not exist on ${arch}`);
  return nr;
}

describe('x86_64 filter: unconditional denials', () => {
  it.each(Object.entries(X86_64_DENIED_EPERM))('%s (%i) fails with EPERM', (_name, nr) => {
    expect(call('x86_64', nr)).toEqual(EPERM);
    expect(call('x86_64', nr, [1, 2, 3, 4, 5, 6])).toEqual(EPERM);
  });

  it('clone3 (435) fails with ENOSYS so libc falls back to clone', () => {
    expect(call('x86_64', 435)).toEqual(ENOSYS);
    expect(call('x86_64', 435, [0x7fff_0000n, 88])).toEqual(ENOSYS);
  });

  it('everyday syscalls are allowed', () => {
    for (const nr of [0, 1, 2, 3, 9, 39, 57, 59, 60, 231, 257, 262, 318]) {
      expect(call('x86_64', nr, [0, 0, 0])).toEqual(ALLOW);
    }
  });
});

describe.each(['x86_64', 'aarch64'] as const)('%s filter: argument checks', (arch) => {
  const clone = nrOf(arch, 'clone');
  const ioctl = nrOf(arch, 'ioctl');
  const socket = nrOf(arch, 'socket');
  const socketpair = nrOf(arch, 'socketpair');
  const personality = nrOf(arch, 'personality');

  it.each(Object.entries(CLONE_NS_FLAGS))('clone with %s fails with EPERM', (_flag, bit) => {
    expect(call(arch, clone, [bit | SIGCHLD])).toEqual(EPERM);
    expect(call(arch, clone, [bit | THREAD_FLAGS])).toEqual(EPERM);
    // Garbage in the upper half does not hide the flag (the kernel ignores it).
    expect(call(arch, clone, [HIGH | BigInt(bit)])).toEqual(EPERM);
  });

  it('clone for threads, fork and vfork is allowed', () => {
    expect(call(arch, clone, [THREAD_FLAGS, 0x7f00_0000_0000n, 1, 2, 3])).toEqual(ALLOW);
    expect(call(arch, clone, [SIGCHLD])).toEqual(ALLOW);
    expect(call(arch, clone, [VFORK_FLAGS])).toEqual(ALLOW);
    expect(call(arch, clone, [0])).toEqual(ALLOW);
    // The namespace flags in another argument do not matter.
    expect(call(arch, clone, [SIGCHLD, 0x10000000])).toEqual(ALLOW);
    // Bits above 32 are ignored by the kernel, so they are not namespace flags.
    expect(call(arch, clone, [BigInt(0x10000000) << 32n])).toEqual(ALLOW);
  });

  it('ioctl TIOCSTI and TIOCLINUX fail with EPERM, other ioctls pass', () => {
    expect(call(arch, ioctl, [0, 0x5412])).toEqual(EPERM);
    expect(call(arch, ioctl, [7, 0x541c])).toEqual(EPERM);
    expect(call(arch, ioctl, [0, HIGH | 0x5412n])).toEqual(EPERM);
    expect(call(arch, ioctl, [0, 0xffff_ffff_0000_5412n])).toEqual(EPERM);
    expect(call(arch, ioctl, [0, 0x5401])).toEqual(ALLOW); // TCGETS
    expect(call(arch, ioctl, [0, 0x5413])).toEqual(ALLOW); // TIOCGWINSZ
    expect(call(arch, ioctl, [0, 0x541b])).toEqual(ALLOW); // FIONREAD
    expect(call(arch, ioctl, [0x5412, 0x5401])).toEqual(ALLOW); // fd, not cmd
  });

  it.each([
    ['AF_UNSPEC', 0],
    ['AF_NETLINK', 16],
    ['AF_PACKET', 17],
    ['AF_BLUETOOTH', 31],
    ['AF_ALG', 38],
    ['AF_VSOCK', 40],
    ['-1', 0xffffffff],
  ])('socket and socketpair with %s fail with EAFNOSUPPORT', (_name, domain) => {
    expect(call(arch, socket, [domain, 3, 0])).toEqual(EAFNOSUPPORT);
    expect(call(arch, socketpair, [domain, 1, 0, 0x1000])).toEqual(EAFNOSUPPORT);
    expect(call(arch, socket, [HIGH | BigInt(domain), 3, 0])).toEqual(EAFNOSUPPORT);
  });

  it.each([
    ['AF_UNIX', 1],
    ['AF_INET', 2],
    ['AF_INET6', 10],
  ])('socket and socketpair with %s are allowed', (_name, domain) => {
    expect(call(arch, socket, [domain, 1, 0])).toEqual(ALLOW);
    expect(call(arch, socketpair, [domain, 1, 0, 0x1000])).toEqual(ALLOW);
    // The kernel reads `int family`, so the high half cannot change the family.
    expect(call(arch, socket, [HIGH | BigInt(domain), 1, 0])).toEqual(ALLOW);
  });

  it('personality allows only the query and PER_LINUX', () => {
    expect(call(arch, personality, [0xffffffff])).toEqual(ALLOW);
    expect(call(arch, personality, [0])).toEqual(ALLOW);
    expect(call(arch, personality, [0x0040000])).toEqual(EPERM); // ADDR_NO_RANDOMIZE
    expect(call(arch, personality, [0x0400000])).toEqual(EPERM); // READ_IMPLIES_EXEC
    expect(call(arch, personality, [8])).toEqual(EPERM); // PER_LINUX32
    expect(call(arch, personality, [HIGH | 0x0040000n])).toEqual(EPERM);
  });

  it('ordinary syscalls are allowed', () => {
    for (const name of ['read', 'write', 'openat', 'execve', 'getpid'] as const) {
      expect(call(arch, nrOf(arch, name), [3, 0x1000, 0x42])).toEqual(ALLOW);
    }
  });

  it('a foreign audit arch is killed, whatever the syscall', () => {
    const foreign =
      arch === 'x86_64'
        ? [AUDIT_ARCH_I386, AUDIT_ARCH_AARCH64, AUDIT_ARCH_ARM, 0]
        : [AUDIT_ARCH_ARM, AUDIT_ARCH_X86_64, AUDIT_ARCH_I386, 0];
    for (const auditArch of foreign) {
      for (const nr of [0, 1, 39, 63, 172]) {
        expect(evaluateSeccompFilter(programs[arch], { arch: auditArch, nr, args: [] })).toEqual(
          KILL,
        );
      }
    }
  });
});

describe('x32 and out-of-range syscall numbers', () => {
  it('x86_64 kills any nr with the x32 bit', () => {
    for (const nr of [
      0x40000000,
      0x40000000 | 39,
      0x40000000 | 101,
      0x40000000 | 513,
      0xffffffff,
    ]) {
      expect(call('x86_64', nr)).toEqual(KILL);
    }
    expect(call('x86_64', 0x3fffffff)).toEqual(ALLOW);
  });

  it('aarch64 has no x32, so large numbers reach the kernel (which says ENOSYS)', () => {
    expect(call('aarch64', 0x40000000 | 63)).toEqual(ALLOW);
  });
});

describe('aarch64 table', () => {
  it('uses the generic numbers for the main denials', () => {
    expect(call('aarch64', 117)).toEqual(EPERM); // ptrace
    expect(call('aarch64', 40)).toEqual(EPERM); // mount
    expect(call('aarch64', 97)).toEqual(EPERM); // unshare
    expect(call('aarch64', 280)).toEqual(EPERM); // bpf
    expect(call('aarch64', 435)).toEqual(ENOSYS); // clone3
    expect(call('aarch64', 220, [0x10000000 | SIGCHLD])).toEqual(EPERM); // clone
    expect(call('aarch64', 29, [0, 0x5412])).toEqual(EPERM); // ioctl
    expect(call('aarch64', 198, [16, 3, 0])).toEqual(EAFNOSUPPORT); // socket
    // x86_64's numbers mean other things here: 101 is nanosleep on aarch64.
    expect(call('aarch64', 101, [0, 0])).toEqual(ALLOW);
  });

  it('is missing only x86-specific syscalls', () => {
    const missing = SYSCALL_NAMES.filter((name) => SYSCALL_TABLES.aarch64[name] === null);
    expect(missing.sort()).toEqual(['ioperm', 'iopl', 'modify_ldt', 'uselib']);
  });
});

/** An independent reading of the policy, to compare the compiled program with. */
function expectedFromPolicy(
  rule: SeccompRule | undefined,
  args: readonly number[],
): SeccompVerdict {
  if (rule === undefined) return ALLOW;
  const deny: SeccompVerdict = {
    action: 'errno',
    errno: { EPERM: 1, ENOSYS: 38, EAFNOSUPPORT: 97 }[rule.action],
  };
  const when = rule.when;
  if (when.kind === 'always') return deny;
  const value = (args[when.arg] ?? 0) >>> 0;
  if (when.kind === 'arg-has-any-bit') return (value & when.mask) !== 0 ? deny : ALLOW;
  const listed = when.values.includes(value);
  return (when.kind === 'arg-in' ? listed : !listed) ? deny : ALLOW;
}

describe.each(['x86_64', 'aarch64'] as const)('%s filter matches SECCOMP_POLICY', (arch) => {
  const ruleByNr = new Map<number, SeccompRule>();
  for (const rule of SECCOMP_POLICY) {
    for (const name of rule.syscalls) {
      const nr = SYSCALL_TABLES[arch][name];
      if (nr !== null) ruleByNr.set(nr, rule);
    }
  }

  it('for every syscall number 0..1023 with several argument patterns', () => {
    const patterns = [[], [0x10000000, 0x5412], [16, 0x541c], [2, 0], [0xffffffff, 1], [0x20000]];
    let denied = 0;
    for (let nr = 0; nr < 1024; nr += 1) {
      for (const args of patterns) {
        const verdict = call(arch, nr, args);
        expect(verdict, `nr ${nr} args ${args.join(',')}`).toEqual(
          expectedFromPolicy(ruleByNr.get(nr), args),
        );
        if (verdict.action !== 'allow') denied += 1;
      }
    }
    expect(denied).toBeGreaterThan(40 * patterns.length);
  });
});

describe('SECCOMP_POLICY', () => {
  it('names each syscall once, with a reason', () => {
    const names = SECCOMP_POLICY.flatMap((rule) => rule.syscalls);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of SECCOMP_POLICY) expect(rule.why.length).toBeGreaterThan(20);
  });

  it('has an x86_64 number for every syscall it names', () => {
    for (const name of SECCOMP_POLICY.flatMap((rule) => rule.syscalls)) {
      expect(SYSCALL_TABLES.x86_64[name], name).not.toBeNull();
    }
  });

  it('tables have no duplicate numbers', () => {
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const numbers = Object.values(SYSCALL_TABLES[arch]).filter((nr) => nr !== null);
      expect(new Set(numbers).size, arch).toBe(numbers.length);
    }
  });

  it('covers everything the brief lists (deleting a rule fails this test)', () => {
    const names = new Set(SECCOMP_POLICY.flatMap((rule) => rule.syscalls));
    for (const name of [...Object.keys(X86_64_DENIED_EPERM), 'clone', 'clone3', 'ioctl']) {
      expect(names.has(name as SyscallName), name).toBe(true);
    }
    expect(names.has('socket') && names.has('socketpair') && names.has('personality')).toBe(true);
  });

  it('exposes the audit arch constants', () => {
    expect(AUDIT_ARCH).toEqual({ x86_64: AUDIT_ARCH_X86_64, aarch64: AUDIT_ARCH_AARCH64 });
  });
});

// ---------------------------------------------------------------------------
// Structural checks on the compiled program, independent of the interpreter.

interface StructureReport {
  errors: string[];
  /** For each reachable instruction, where the accumulator's value came from. */
  sources: Set<string>[];
}

/**
 * Walks every path of a classic BPF program: jump targets inside the program,
 * every instruction reachable, no path falling off the end, and at every
 * instruction the accumulator holds a value from a single load (so a block
 * that loaded an argument never flows into a syscall-number comparison).
 */
function checkStructure(insns: readonly SockFilter[]): StructureReport {
  const errors: string[] = [];
  const incoming: Set<string>[] = insns.map(() => new Set<string>());
  incoming[0]?.add('initial');
  const edge = (from: number, offset: number, source: string) => {
    const to = from + 1 + offset;
    if (offset > 255) errors.push(`${from}: offset ${offset} does not fit in u8`);
    const target = incoming[to];
    if (target === undefined) errors.push(`${from}: jump to ${to} is outside the program`);
    else target.add(source);
  };
  insns.forEach((insn, pc) => {
    const sources = incoming[pc] ?? new Set<string>();
    if (sources.size === 0) {
      errors.push(`${pc}: unreachable`);
      return;
    }
    const cls = insn.code & 0x07;
    let a = [...sources].join('|');
    if (sources.size > 1 && cls === 0x05 && (insn.code & 0xf0) !== 0) {
      errors.push(`${pc}: compares an accumulator loaded from different places (${a})`);
    }
    if (insn.code === 0x20) a = `data[${insn.k}]`;
    if (cls === 0x06) return; // ret
    if (cls === 0x05) {
      if ((insn.code & 0xf0) === 0x00) edge(pc, insn.k, a);
      else {
        edge(pc, insn.jt, a);
        edge(pc, insn.jf, a);
      }
      return;
    }
    edge(pc, 0, a);
  });
  return { errors, sources: incoming };
}

describe.each(['x86_64', 'aarch64'] as const)('%s program structure', (arch) => {
  const program = programs[arch];
  const insns = decodeBpfProgram(program);

  it('is a whole number of 8-byte instructions, well under BPF_MAXINSNS', () => {
    expect(program.length % 8).toBe(0);
    expect(insns.length).toBeGreaterThan(60);
    expect(insns.length).toBeLessThan(BPF_MAXINSNS);
    expect(insns.length).toBeLessThan(400);
  });

  it('starts with the arch check and ends with ALLOW', () => {
    expect(program.subarray(0, 8)).toEqual(Buffer.from('2000000004000000', 'hex')); // ld [4]
    const archBytes = Buffer.alloc(4);
    archBytes.writeUInt32LE(AUDIT_ARCH[arch]);
    // jeq #AUDIT_ARCH, jt 1, jf 0
    expect(program.subarray(8, 16)).toEqual(
      Buffer.concat([Buffer.from('15000100', 'hex'), archBytes]),
    );
    expect(program.subarray(16, 24)).toEqual(Buffer.from('0600000000000080', 'hex')); // ret KILL_PROCESS
    expect(program.subarray(24, 32)).toEqual(Buffer.from('2000000000000000', 'hex')); // ld [0]
    expect(program.subarray(-8)).toEqual(Buffer.from('060000000000ff7f', 'hex')); // ret ALLOW
  });

  it('has every jump in range, no dead code and one accumulator source per instruction', () => {
    const report = checkStructure(insns);
    expect(report.errors).toEqual([]);
    const last = insns[insns.length - 1];
    expect(last?.code).toBe(0x06);
  });

  it('compares every policy syscall number against seccomp_data.nr', () => {
    const { sources } = checkStructure(insns);
    const nrCompared = new Set<number>();
    insns.forEach((insn, pc) => {
      if (insn.code === 0x15 && sources[pc]?.has('data[0]')) nrCompared.add(insn.k);
    });
    for (const rule of SECCOMP_POLICY) {
      for (const name of rule.syscalls) {
        const nr = SYSCALL_TABLES[arch][name];
        if (nr !== null) expect(nrCompared.has(nr), name).toBe(true);
      }
    }
  });
});

describe('structure checker catches broken programs', () => {
  const ld = (k: number): SockFilter => ({ code: 0x20, jt: 0, jf: 0, k });
  const jeq = (k: number, jt: number, jf: number): SockFilter => ({ code: 0x15, jt, jf, k });
  const ret = (k: number): SockFilter => ({ code: 0x06, jt: 0, jf: 0, k });

  it('reports a jump past the end', () => {
    expect(checkStructure([ld(0), jeq(1, 5, 0), ret(0)]).errors.join()).toMatch(/outside/);
  });

  it('reports an argument block that falls through into the dispatch', () => {
    // ld nr; jeq 16, 0, 1; ld arg1; jeq 41 ... (A may be nr or arg1 here)
    const broken = [ld(0), jeq(16, 0, 1), ld(24), jeq(41, 0, 1), ret(0x50001), ret(0x7fff0000)];
    expect(checkStructure(broken).errors.join()).toMatch(/different places/);
  });

  it('reports unreachable instructions', () => {
    expect(checkStructure([ret(0x7fff0000), ret(0)]).errors.join()).toMatch(/unreachable/);
  });
});

describe('BPF interpreter', () => {
  const prog = (...insns: SockFilter[]) => encodeBpfProgram(insns);
  const data = { arch: AUDIT_ARCH_X86_64, nr: 5, args: [0xdead_beef_0000_0007n] };

  it('returns errno data and decodes actions', () => {
    expect(evaluateSeccompFilter(prog({ code: 0x06, jt: 0, jf: 0, k: 0x50005 }), data)).toEqual({
      action: 'errno',
      errno: 5,
    });
    expect(evaluateSeccompFilter(prog({ code: 0x06, jt: 0, jf: 0, k: 0 }), data).action).toBe(
      'kill_thread',
    );
  });

  it('loads the low and high halves of a 64-bit argument', () => {
    const low = prog({ code: 0x20, jt: 0, jf: 0, k: 16 }, { code: 0x16, jt: 0, jf: 0, k: 0 });
    const high = prog({ code: 0x20, jt: 0, jf: 0, k: 20 }, { code: 0x16, jt: 0, jf: 0, k: 0 });
    // ret A: A = 7 → action kill_thread with data 7; A = 0xdeadbeef → unknown action → kill_process
    expect(evaluateSeccompFilter(low, data).action).toBe('kill_thread');
    expect(evaluateSeccompFilter(high, data).action).toBe('kill_process');
  });

  it('rejects what the kernel would reject', () => {
    const retAllow = { code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 };
    expect(() => evaluateSeccompFilter(Buffer.alloc(0), data)).toThrow();
    expect(() => evaluateSeccompFilter(Buffer.alloc(12), data)).toThrow(/multiple of 8/);
    expect(() =>
      evaluateSeccompFilter(prog({ code: 0x20, jt: 0, jf: 0, k: 2 }, retAllow), data),
    ).toThrow(/unaligned/);
    expect(() =>
      evaluateSeccompFilter(prog({ code: 0x20, jt: 0, jf: 0, k: 64 }, retAllow), data),
    ).toThrow(/out of range/);
    expect(() =>
      evaluateSeccompFilter(prog({ code: 0x15, jt: 1, jf: 0, k: 0 }, retAllow), data),
    ).toThrow(/past the end/);
    expect(() => evaluateSeccompFilter(prog({ code: 0x20, jt: 0, jf: 0, k: 0 }), data)).toThrow(
      /end with a return/,
    );
    expect(() => evaluateSeccompFilter(Buffer.alloc(8 * (BPF_MAXINSNS + 1), 0x06), data)).toThrow(
      /instructions/,
    );
  });
});

describe('hostSeccompArch', () => {
  it('maps Node architecture names', () => {
    expect(hostSeccompArch('x64')).toBe('x86_64');
    expect(hostSeccompArch('arm64')).toBe('aarch64');
  });

  it('throws UnsupportedArchError for others', () => {
    for (const nodeArch of ['ia32', 'arm', 'riscv64', 's390x']) {
      let caught: unknown;
      try {
        hostSeccompArch(nodeArch);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UnsupportedArchError);
      expect(caught).toMatchObject({ code: 'ERR_SECCOMP_UNSUPPORTED_ARCH', arch: nodeArch });
    }
  });

  it('defaults to process.arch', () => {
    if (process.arch === 'x64' || process.arch === 'arm64') {
      expect(hostSeccompArch()).toBe(process.arch === 'x64' ? 'x86_64' : 'aarch64');
    } else {
      expect(() => hostSeccompArch()).toThrow(UnsupportedArchError);
    }
  });
});

describe('syscall-probe.py fixture', () => {
  const source = readFileSync(
    new URL('../../test/fixtures/syscall-probe.py', import.meta.url),
    'utf8',
  );

  it.each(['x86_64', 'aarch64'] as const)('uses the same %s numbers as the filter', (arch) => {
    const block = new RegExp(`"${arch}": \\{([^}]*)\\}`).exec(source)?.[1];
    expect(block).toBeDefined();
    const entries = [...(block ?? '').matchAll(/"(\w+)": (\d+)/g)];
    expect(entries.length).toBeGreaterThan(40);
    for (const [, name, nr] of entries) {
      expect(SYSCALL_TABLES[arch][name as SyscallName], `${arch} ${name}`).toBe(Number(nr));
    }
  });
});
