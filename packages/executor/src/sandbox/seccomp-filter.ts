/**
 * The seccomp filter every sandboxed run gets, built in-process as a classic
 * BPF program: the raw array of `struct sock_filter` that `bwrap --seccomp FD`
 * reads from a file descriptor and installs (after PR_SET_NO_NEW_PRIVS) right
 * before it executes the untrusted program. No libseccomp, no external binary.
 *
 * The policy is a deny list: everything not named in SECCOMP_POLICY is
 * allowed, so ordinary programs (interpreters, compilers, shells, threads,
 * fork/exec) keep working. What is denied is kernel attack surface that an
 * unprivileged program inside the sandbox has no business using.
 *
 * Program layout (every jump is short and forward; no jump can exceed the u8
 * offset of classic BPF however long the policy grows):
 *
 *   ld  [arch]; jeq AUDIT_ARCH, +1; ret KILL_PROCESS
 *   ld  [nr]
 *   (x86_64) jge 0x40000000, 0, +1; ret KILL_PROCESS      x32 ABI
 *   one self-contained block per syscall with a rule:
 *     jeq nr, 0, <past block>
 *     ret ERRNO(e)                                        unconditional rules
 *   or
 *     ld [arg low word]; jeq/jset ...; ret ERRNO(e); ret ALLOW
 *   ret ALLOW
 *
 * A block that loads an argument always ends in returns, so the accumulator
 * holding an argument never reaches a later syscall-number comparison (the
 * unit tests check this by data-flow analysis of the built program).
 *
 * Arguments are compared on their low 32 bits only; see `argLow` for why.
 *
 * Syscalls whose verdict depends only on the number (all of them except the
 * few with argument checks) are cached by the kernel's seccomp action cache
 * (Linux 5.11+), so the filter costs next to nothing on hot paths.
 */
import {
  BPF_ABS,
  BPF_JEQ,
  BPF_JGE,
  BPF_JMP,
  BPF_JSET,
  BPF_K,
  BPF_LD,
  BPF_MAXINSNS,
  BPF_RET,
  BPF_W,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  encodeBpfProgram,
  type SockFilter,
} from './seccomp-bpf-interpreter.ts';
import {
  AARCH64_SYSCALLS,
  X86_64_SYSCALLS,
  type SyscallName,
  type SyscallTable,
} from './seccomp-syscalls.ts';

export { evaluateSeccompFilter } from './seccomp-bpf-interpreter.ts';
export type { SeccompData, SeccompVerdict, SeccompActionName } from './seccomp-bpf-interpreter.ts';

// ---------------------------------------------------------------------------
// Architectures

export type SeccompArch = 'x86_64' | 'aarch64';
export const SECCOMP_ARCHES: readonly SeccompArch[] = ['x86_64', 'aarch64'];

/** seccomp_data.arch for each native ABI (AUDIT_ARCH_* in include/uapi/linux/audit.h). */
export const AUDIT_ARCH: Readonly<Record<SeccompArch, number>> = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
};

/** x32 syscalls arrive with AUDIT_ARCH_X86_64 and this bit set in nr. */
export const X32_SYSCALL_BIT = 0x40000000;

export const SYSCALL_TABLES: Readonly<Record<SeccompArch, SyscallTable>> = {
  x86_64: X86_64_SYSCALLS,
  aarch64: AARCH64_SYSCALLS,
};

export class UnsupportedArchError extends Error {
  readonly code = 'ERR_SECCOMP_UNSUPPORTED_ARCH';
  readonly arch: string;

  constructor(arch: string) {
    super(`no seccomp filter for CPU architecture "${arch}" (supported: x64, arm64)`);
    this.name = 'UnsupportedArchError';
    this.arch = arch;
  }
}

/** The filter architecture for this Node process (`process.arch` by default). */
export function hostSeccompArch(nodeArch: string = process.arch): SeccompArch {
  if (nodeArch === 'x64') return 'x86_64';
  if (nodeArch === 'arm64') return 'aarch64';
  throw new UnsupportedArchError(nodeArch);
}

// ---------------------------------------------------------------------------
// Policy

/** errno values; identical on x86_64 and aarch64 (asm-generic/errno*.h). */
export const SECCOMP_ERRNO = { EPERM: 1, ENOSYS: 38, EAFNOSUPPORT: 97 } as const;
export type SeccompErrnoName = keyof typeof SECCOMP_ERRNO;

/** When a rule applies. Argument indexes are 0-based; values are 32-bit. */
export type SeccompCondition =
  | { readonly kind: 'always' }
  /** The argument's low 32 bits share a bit with `mask`. */
  | { readonly kind: 'arg-has-any-bit'; readonly arg: number; readonly mask: number }
  /** The argument's low 32 bits equal one of `values`. */
  | { readonly kind: 'arg-in'; readonly arg: number; readonly values: readonly number[] }
  /** The argument's low 32 bits equal none of `values` (an allow-list). */
  | { readonly kind: 'arg-not-in'; readonly arg: number; readonly values: readonly number[] };

export interface SeccompRule {
  readonly syscalls: readonly SyscallName[];
  /** The syscall fails with this errno instead of running. */
  readonly action: SeccompErrnoName;
  readonly when: SeccompCondition;
  readonly why: string;
}

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;
/** Every namespace flag clone(2) accepts. (CLONE_NEWTIME, 0x80, collides with the
 * exit-signal byte and is only accepted by clone3 and unshare, both denied.) */
export const CLONE_NAMESPACE_FLAGS =
  (CLONE_NEWNS |
    CLONE_NEWCGROUP |
    CLONE_NEWUTS |
    CLONE_NEWIPC |
    CLONE_NEWUSER |
    CLONE_NEWPID |
    CLONE_NEWNET) >>>
  0;

export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

/** personality(0xffffffff) only queries the current persona. */
export const PERSONALITY_QUERY = 0xffffffff;
/** PER_LINUX, the default persona. */
export const PER_LINUX = 0;

/**
 * The seccomp policy, written once: the filter is compiled from this list and
 * docs and tests read it. Beyond these rules, foreign ABIs are killed (see
 * SECCOMP_ABI_POLICY) and every other syscall is allowed. A syscall appears
 * in at most one rule. Syscalls missing on an architecture are skipped there.
 */
export const SECCOMP_POLICY: readonly SeccompRule[] = [
  {
    syscalls: ['ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: "Reading or steering another process (or one sandbox run reaching another with the same uid), taking another process's descriptors (pidfd_getfd: a tty run's program copying its wrapper's control socket), and a long history of ptrace privilege-escalation bugs.",
  },
  {
    syscalls: ['keyctl', 'add_key', 'request_key'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'The kernel keyring is not namespaced: keys can leak between runs, and the keyring code has had several exploitable bugs.',
  },
  {
    syscalls: ['bpf'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'eBPF verifier and JIT bugs are a recurring route to kernel code execution.',
  },
  {
    syscalls: ['perf_event_open'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'Large kernel attack surface and a side channel on other processes; not needed to run code.',
  },
  {
    syscalls: ['userfaultfd'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'Lets a program stall the kernel mid-copy, the standard tool for winning kernel race conditions in exploits.',
  },
  {
    syscalls: ['io_uring_setup', 'io_uring_enter', 'io_uring_register'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'io_uring has had many privilege-escalation bugs, and its operations run without passing through this filter. Runtimes (libuv) fall back to plain syscalls.',
  },
  {
    syscalls: [
      'mount',
      'umount2',
      'pivot_root',
      'move_mount',
      'open_tree',
      'open_tree_attr',
      'fsopen',
      'fsconfig',
      'fsmount',
      'fspick',
      'mount_setattr',
    ],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'The sandbox file system layout is fixed by bwrap; changing mounts could undo read-only binds. open_tree_attr (Linux 6.15) is open_tree with mount attributes, denied with it.',
  },
  {
    syscalls: ['chroot'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'Changing the root is a classic ingredient of escapes and is never needed inside the sandbox.',
  },
  {
    syscalls: ['unshare', 'setns'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'New namespaces (above all user namespaces, which hand out capabilities) expose large amounts of kernel code; runs stay in the namespaces bwrap made.',
  },
  {
    syscalls: ['clone'],
    action: 'EPERM',
    when: { kind: 'arg-has-any-bit', arg: 0, mask: CLONE_NAMESPACE_FLAGS },
    why: 'clone with a CLONE_NEW* flag is unshare by another name. Plain fork (SIGCHLD) and thread creation (CLONE_VM|CLONE_THREAD|...) stay allowed. The flags are argument 0 on both x86_64 and aarch64.',
  },
  {
    syscalls: ['clone3'],
    action: 'ENOSYS',
    when: { kind: 'always' },
    why: 'clone3 passes its flags in memory, which seccomp cannot read, so the clone rule could be bypassed. ENOSYS makes glibc (and musl, Go, Rust) fall back to clone, whose flags are checked.',
  },
  {
    syscalls: ['ioctl'],
    action: 'EPERM',
    when: { kind: 'arg-in', arg: 1, values: [TIOCSTI, TIOCLINUX] },
    why: 'TIOCSTI pushes bytes into a terminal input queue (typing commands into whoever owns the terminal); TIOCLINUX can paste the console selection. Other ioctls stay allowed.',
  },
  {
    syscalls: ['socket', 'socketpair'],
    action: 'EAFNOSUPPORT',
    when: { kind: 'arg-not-in', arg: 0, values: [AF_UNIX, AF_INET, AF_INET6] },
    why: 'Only Unix and IP sockets are needed (and IP has no route out of the network namespace). Netlink, packet, AF_ALG, vsock, bluetooth and the other families are rarely used and often buggy. EAFNOSUPPORT is what programs expect for a missing family.',
  },
  {
    syscalls: ['personality'],
    action: 'EPERM',
    when: { kind: 'arg-not-in', arg: 0, values: [PER_LINUX, PERSONALITY_QUERY] },
    why: 'Personality flags such as ADDR_NO_RANDOMIZE (switches off ASLR for exec’d programs) or READ_IMPLIES_EXEC weaken exploit mitigations. Querying and setting the default persona stay allowed.',
  },
  {
    syscalls: ['kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'Loading kernels or kernel modules; need host privileges anyway, so denying costs nothing and removes surface.',
  },
  {
    syscalls: [
      'reboot',
      'swapon',
      'swapoff',
      'acct',
      'quotactl',
      'quotactl_fd',
      'syslog',
      'vhangup',
    ],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'Host administration (power, swap, process accounting, disk quotas, the kernel log, hanging up terminals): never needed by a run. quotactl_fd is quotactl on a file descriptor. syslog would read the host kernel log where dmesg_restrict is off.',
  },
  {
    syscalls: ['open_by_handle_at', 'name_to_handle_at'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'File handles open files by inode, bypassing the mount layout; open_by_handle_at was the "shocker" container escape.',
  },
  {
    syscalls: ['iopl', 'ioperm', 'modify_ldt'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'x86 only: direct I/O port access, and LDT changes, a source of privilege-escalation bugs (CVE-2015-5157, CVE-2017-17053) needed only by 16-bit code and Wine.',
  },
  {
    syscalls: ['lookup_dcookie', 'uselib', 'nfsservctl'],
    action: 'EPERM',
    when: { kind: 'always' },
    why: 'Obsolete or removed interfaces; deny them so an old kernel does not expose them.',
  },
];

/** Calls that do not use the native ABI end the whole process (SIGSYS). */
export const SECCOMP_ABI_POLICY: readonly {
  readonly abi: string;
  readonly action: 'KILL_PROCESS';
  readonly why: string;
}[] = [
  {
    abi: 'any audit arch other than the native one (i386 int 0x80 on x86_64, AArch32 on aarch64)',
    action: 'KILL_PROCESS',
    why: 'Syscall numbers differ per ABI, so a deny list for one ABI says nothing about another: the 32-bit ABIs would bypass every rule. Nothing in the sandbox needs them.',
  },
  {
    abi: 'x86_64 x32 (syscall number with bit 0x40000000 set)',
    action: 'KILL_PROCESS',
    why: 'x32 shares the x86_64 audit arch but uses other numbers; killing it closes the same bypass. Also kills syscall(-1), which nothing legitimately needs.',
  },
];

/** The rule that applies to a syscall, if any. */
export function seccompRuleFor(name: SyscallName): SeccompRule | undefined {
  return SECCOMP_POLICY.find((rule) => rule.syscalls.includes(name));
}

// ---------------------------------------------------------------------------
// Compiler

/** Offsets into struct seccomp_data. */
const OFFSET_NR = 0;
const OFFSET_ARCH = 4;
const OFFSET_ARGS = 16;

/**
 * Offset of the low 32 bits of argument `index` (seccomp_data.args are u64,
 * little-endian on both supported arches, so the low word comes first).
 *
 * Why only the low word: classic BPF loads 32 bits at a time, so checking the
 * whole 64-bit register takes two loads. Every argument this policy inspects
 * is, in the kernel, either declared as a 32-bit type (socket's `int family`,
 * ioctl's `unsigned int cmd`, personality's `unsigned int`) or a flags word of
 * which the kernel keeps only the low 32 bits (clone: `lower_32_bits(flags)`).
 * The kernel acts on the low word only, so the filter must decide on the low
 * word only. Requiring the high word to be zero before a deny rule matches
 * would be a bypass: ioctl(fd, TIOCSTI | 1 << 32) would skip the rule and the
 * kernel would still run TIOCSTI. And for the allow-lists (socket domain,
 * personality) the high word cannot change what the kernel does either.
 */
function argLow(index: number): number {
  if (!Number.isInteger(index) || index < 0 || index > 5) {
    throw new Error(`syscall argument index ${index} out of range`);
  }
  return OFFSET_ARGS + 8 * index;
}

type Label = string;
interface AsmInsn {
  readonly code: number;
  readonly k: number;
  /** Jump targets by label; absent means the next instruction. */
  readonly jt?: Label;
  readonly jf?: Label;
}
interface AsmLabel {
  readonly label: Label;
}
type AsmLine = AsmInsn | AsmLabel;

const ld = (offset: number): AsmInsn => ({ code: BPF_LD | BPF_W | BPF_ABS, k: offset });
const jeq = (k: number, jt?: Label, jf?: Label): AsmInsn => ({
  code: BPF_JMP | BPF_JEQ | BPF_K,
  k,
  jt,
  jf,
});
const jge = (k: number, jt?: Label, jf?: Label): AsmInsn => ({
  code: BPF_JMP | BPF_JGE | BPF_K,
  k,
  jt,
  jf,
});
const jset = (k: number, jt?: Label, jf?: Label): AsmInsn => ({
  code: BPF_JMP | BPF_JSET | BPF_K,
  k,
  jt,
  jf,
});
const ret = (k: number): AsmInsn => ({ code: BPF_RET | BPF_K, k });
const label = (name: Label): AsmLabel => ({ label: name });

const RET_ALLOW = SECCOMP_RET_ALLOW;
const RET_KILL = SECCOMP_RET_KILL_PROCESS;
const retErrno = (name: SeccompErrnoName): number =>
  (SECCOMP_RET_ERRNO | SECCOMP_ERRNO[name]) >>> 0;

/** Resolves labels to relative u8 jump offsets; throws if one does not fit. */
function assemble(lines: readonly AsmLine[]): SockFilter[] {
  const positions = new Map<Label, number>();
  let count = 0;
  for (const line of lines) {
    if ('label' in line) {
      if (positions.has(line.label)) throw new Error(`duplicate BPF label ${line.label}`);
      positions.set(line.label, count);
    } else {
      count += 1;
    }
  }
  const out: SockFilter[] = [];
  for (const line of lines) {
    if ('label' in line) continue;
    const pc = out.length;
    const offset = (target: Label | undefined): number => {
      if (target === undefined) return 0;
      const at = positions.get(target);
      if (at === undefined) throw new Error(`unknown BPF label ${target}`);
      const distance = at - (pc + 1);
      if (distance < 0 || distance > 255) {
        throw new Error(`BPF jump from ${pc} to ${target} (${distance}) does not fit in a u8`);
      }
      return distance;
    };
    out.push({ code: line.code, k: line.k >>> 0, jt: offset(line.jt), jf: offset(line.jf) });
  }
  return out;
}

/** The instructions for one syscall's rule: a self-contained block. */
function ruleBlock(nr: number, rule: SeccompRule, id: string): AsmLine[] {
  const end = `${id}:end`;
  const deny = `${id}:deny`;
  const allow = `${id}:allow`;
  const { when } = rule;
  if (when.kind === 'always') {
    return [jeq(nr, undefined, end), ret(retErrno(rule.action)), label(end)];
  }
  const checks: AsmLine[] = [];
  if (when.kind === 'arg-has-any-bit') {
    checks.push(jset(when.mask >>> 0, deny, allow));
  } else {
    if (when.values.length === 0) throw new Error(`rule for ${id} has no values`);
    const hit = when.kind === 'arg-in' ? deny : allow;
    const miss = when.kind === 'arg-in' ? allow : deny;
    when.values.forEach((value, i) => {
      const isLast = i === when.values.length - 1;
      checks.push(jeq(value >>> 0, hit, isLast ? miss : undefined));
    });
  }
  return [
    jeq(nr, undefined, end),
    ld(argLow(when.arg)),
    ...checks,
    label(deny),
    ret(retErrno(rule.action)),
    label(allow),
    ret(RET_ALLOW),
    label(end),
  ];
}

/**
 * Builds the seccomp filter for `arch` as raw `struct sock_filter` bytes,
 * ready to be written to a file and passed to `bwrap --seccomp FD`.
 */
export function buildSeccompFilter(arch: SeccompArch): Buffer {
  const table = SYSCALL_TABLES[arch];
  const lines: AsmLine[] = [
    ld(OFFSET_ARCH),
    jeq(AUDIT_ARCH[arch], 'arch-ok'),
    ret(RET_KILL),
    label('arch-ok'),
    ld(OFFSET_NR),
  ];
  if (arch === 'x86_64') {
    lines.push(jge(X32_SYSCALL_BIT, undefined, 'abi-ok'), ret(RET_KILL), label('abi-ok'));
  }

  // Argument-dependent rules first: their verdict cannot be cached by the
  // kernel, so they run on every call (ioctl is frequent) and should be cheap.
  const ordered = [
    ...SECCOMP_POLICY.filter((rule) => rule.when.kind !== 'always'),
    ...SECCOMP_POLICY.filter((rule) => rule.when.kind === 'always'),
  ];
  const seen = new Set<SyscallName>();
  for (const rule of ordered) {
    for (const name of rule.syscalls) {
      if (seen.has(name)) throw new Error(`syscall ${name} appears in more than one seccomp rule`);
      seen.add(name);
      const nr = table[name];
      if (nr === null) continue;
      lines.push(...ruleBlock(nr, rule, name));
    }
  }
  lines.push(ret(RET_ALLOW));

  const insns = assemble(lines);
  if (insns.length > BPF_MAXINSNS) {
    throw new Error(`seccomp filter has ${insns.length} instructions (max ${BPF_MAXINSNS})`);
  }
  return encodeBpfProgram(insns);
}
