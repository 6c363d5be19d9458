/**
 * Classic BPF, as the kernel's seccomp accepts it: instruction encoding, a
 * validator with the kernel's load-time rules, and a small pure interpreter.
 *
 * The interpreter exists so unit tests can run the real filter bytes without
 * a kernel. It implements the subset of classic BPF that seccomp permits and
 * that runbox uses (loads, ALU, jumps, returns, TAX/TXA); scratch memory
 * (ST/STX/LD MEM) is rejected as unsupported rather than half-implemented.
 */

// struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } — 8 bytes, host (little) endian.
export const SOCK_FILTER_SIZE = 8;
/** The kernel refuses longer classic programs (include/uapi/linux/bpf_common.h). */
export const BPF_MAXINSNS = 4096;
/** sizeof(struct seccomp_data): nr u32, arch u32, instruction_pointer u64, args u64[6]. */
export const SECCOMP_DATA_SIZE = 64;

// Instruction classes.
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_RET = 0x06;
export const BPF_MISC = 0x07;
// Load sizes and modes.
export const BPF_W = 0x00;
export const BPF_IMM = 0x00;
export const BPF_ABS = 0x20;
export const BPF_LEN = 0x80;
// ALU operations.
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_XOR = 0xa0;
// Jumps.
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
// Operand source.
export const BPF_K = 0x00;
export const BPF_X = 0x08;
// Return value source.
export const BPF_A = 0x10;
// MISC.
export const BPF_TAX = 0x00;
export const BPF_TXA = 0x80;

// Seccomp return values (include/uapi/linux/seccomp.h).
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ACTION_FULL = 0xffff0000;
export const SECCOMP_RET_DATA = 0x0000ffff;
const MAX_ERRNO = 4095;

export interface SockFilter {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

export function encodeBpfProgram(insns: readonly SockFilter[]): Buffer {
  const out = Buffer.alloc(insns.length * SOCK_FILTER_SIZE);
  insns.forEach((insn, i) => {
    const at = i * SOCK_FILTER_SIZE;
    out.writeUInt16LE(insn.code, at);
    out.writeUInt8(insn.jt, at + 2);
    out.writeUInt8(insn.jf, at + 3);
    out.writeUInt32LE(insn.k >>> 0, at + 4);
  });
  return out;
}

export function decodeBpfProgram(program: Buffer): SockFilter[] {
  if (program.length % SOCK_FILTER_SIZE !== 0) {
    throw new Error(
      `BPF program length ${program.length} is not a multiple of ${SOCK_FILTER_SIZE}`,
    );
  }
  const insns: SockFilter[] = [];
  for (let at = 0; at < program.length; at += SOCK_FILTER_SIZE) {
    insns.push({
      code: program.readUInt16LE(at),
      jt: program.readUInt8(at + 2),
      jf: program.readUInt8(at + 3),
      k: program.readUInt32LE(at + 4),
    });
  }
  return insns;
}

const bpfClass = (code: number): number => code & 0x07;
const bpfOp = (code: number): number => code & 0xf0;
const bpfSrc = (code: number): number => code & 0x08;

/**
 * The opcodes seccomp accepts (kernel/seccomp.c seccomp_check_filter), minus
 * scratch memory, which this interpreter does not implement.
 */
const SUPPORTED_OPCODES: ReadonlySet<number> = new Set([
  BPF_LD | BPF_W | BPF_ABS,
  BPF_LD | BPF_W | BPF_LEN,
  BPF_LD | BPF_IMM,
  BPF_LDX | BPF_W | BPF_LEN,
  BPF_LDX | BPF_IMM,
  BPF_RET | BPF_K,
  BPF_RET | BPF_A,
  BPF_MISC | BPF_TAX,
  BPF_MISC | BPF_TXA,
  BPF_ALU | BPF_NEG,
  ...[BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_AND, BPF_OR, BPF_XOR, BPF_LSH, BPF_RSH].flatMap(
    (op) => [BPF_ALU | op | BPF_K, BPF_ALU | op | BPF_X],
  ),
  BPF_JMP | BPF_JA,
  ...[BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].flatMap((op) => [
    BPF_JMP | op | BPF_K,
    BPF_JMP | op | BPF_X,
  ]),
]);

/**
 * Throws when the kernel would refuse the program at load time (or when it
 * uses an opcode this interpreter does not implement).
 */
export function validateSeccompProgram(program: Buffer): SockFilter[] {
  const insns = decodeBpfProgram(program);
  if (insns.length === 0 || insns.length > BPF_MAXINSNS) {
    throw new Error(`BPF program has ${insns.length} instructions (1..${BPF_MAXINSNS} allowed)`);
  }
  insns.forEach((insn, pc) => {
    const where = `instruction ${pc} (code 0x${insn.code.toString(16)})`;
    if (!SUPPORTED_OPCODES.has(insn.code)) throw new Error(`${where}: unsupported opcode`);
    const cls = bpfClass(insn.code);
    if (insn.code === (BPF_LD | BPF_W | BPF_ABS)) {
      if (insn.k % 4 !== 0 || insn.k >= SECCOMP_DATA_SIZE) {
        throw new Error(
          `${where}: seccomp_data load at offset ${insn.k} is unaligned or out of range`,
        );
      }
    }
    if (cls === BPF_ALU && bpfSrc(insn.code) === BPF_K) {
      const op = bpfOp(insn.code);
      if (op === BPF_DIV && insn.k === 0) throw new Error(`${where}: division by constant zero`);
      if ((op === BPF_LSH || op === BPF_RSH) && insn.k >= 32) {
        throw new Error(`${where}: shift by ${insn.k}`);
      }
    }
    if (cls === BPF_JMP) {
      const last = insns.length - 1;
      if (bpfOp(insn.code) === BPF_JA) {
        if (pc + 1 + insn.k > last) throw new Error(`${where}: jump past the end`);
      } else if (pc + 1 + insn.jt > last || pc + 1 + insn.jf > last) {
        throw new Error(`${where}: conditional jump past the end`);
      }
    }
  });
  const lastInsn = insns[insns.length - 1];
  if (lastInsn === undefined || bpfClass(lastInsn.code) !== BPF_RET) {
    throw new Error('BPF program does not end with a return');
  }
  return insns;
}

/** What the kernel would hand the filter for one syscall. */
export interface SeccompData {
  readonly arch: number;
  readonly nr: number;
  /** Up to six arguments, each a full 64-bit register value; missing ones are 0. */
  readonly args: readonly bigint[];
  readonly instructionPointer?: bigint;
}

export type SeccompActionName =
  'allow' | 'errno' | 'kill_process' | 'kill_thread' | 'trap' | 'trace' | 'log' | 'user_notif';

export interface SeccompVerdict {
  readonly action: SeccompActionName;
  /** Set for `errno`: the errno the syscall fails with. */
  readonly errno?: number;
}

function seccompDataBytes(data: SeccompData): Buffer {
  if (data.args.length > 6) throw new Error('seccomp_data has at most six arguments');
  const bytes = Buffer.alloc(SECCOMP_DATA_SIZE);
  bytes.writeUInt32LE(data.nr >>> 0, 0);
  bytes.writeUInt32LE(data.arch >>> 0, 4);
  bytes.writeBigUInt64LE(BigInt.asUintN(64, data.instructionPointer ?? 0n), 8);
  data.args.forEach((arg, i) => bytes.writeBigUInt64LE(BigInt.asUintN(64, arg), 16 + 8 * i));
  return bytes;
}

/** Maps a filter's 32-bit return value to the kernel's decision. */
export function decodeSeccompReturn(ret: number): SeccompVerdict {
  const action = (ret & SECCOMP_RET_ACTION_FULL) >>> 0;
  switch (action) {
    case SECCOMP_RET_ALLOW:
      return { action: 'allow' };
    case SECCOMP_RET_ERRNO:
      return { action: 'errno', errno: Math.min(ret & SECCOMP_RET_DATA, MAX_ERRNO) };
    case SECCOMP_RET_KILL_THREAD:
      return { action: 'kill_thread' };
    case SECCOMP_RET_TRAP:
      return { action: 'trap' };
    case SECCOMP_RET_TRACE:
      return { action: 'trace' };
    case SECCOMP_RET_LOG:
      return { action: 'log' };
    case SECCOMP_RET_USER_NOTIF:
      return { action: 'user_notif' };
    default:
      // KILL_PROCESS, and the kernel treats unknown actions the same way.
      return { action: 'kill_process' };
  }
}

function alu(op: number, a: number, operand: number): number | 'div-by-zero' {
  switch (op) {
    case BPF_ADD:
      return (a + operand) >>> 0;
    case BPF_SUB:
      return (a - operand) >>> 0;
    case BPF_MUL:
      return Math.imul(a, operand) >>> 0;
    case BPF_DIV:
      return operand === 0 ? 'div-by-zero' : Math.floor(a / operand) >>> 0;
    case BPF_AND:
      return (a & operand) >>> 0;
    case BPF_OR:
      return (a | operand) >>> 0;
    case BPF_XOR:
      return (a ^ operand) >>> 0;
    case BPF_LSH:
      return (a << (operand & 31)) >>> 0;
    case BPF_RSH:
      return a >>> (operand & 31);
    case BPF_NEG:
      return -a >>> 0;
    default:
      throw new Error(`unsupported ALU op 0x${op.toString(16)}`);
  }
}

function jumpTaken(op: number, a: number, operand: number): boolean {
  switch (op) {
    case BPF_JEQ:
      return a === operand;
    case BPF_JGT:
      return a > operand;
    case BPF_JGE:
      return a >= operand;
    case BPF_JSET:
      return (a & operand) !== 0;
    default:
      throw new Error(`unsupported jump op 0x${op.toString(16)}`);
  }
}

/**
 * Runs a seccomp program against one syscall, as the kernel would. All
 * registers are unsigned 32-bit, like the kernel's. Classic BPF only jumps
 * forward, so this always terminates.
 */
export function evaluateSeccompFilter(program: Buffer, data: SeccompData): SeccompVerdict {
  const insns = validateSeccompProgram(program);
  const bytes = seccompDataBytes(data);
  let a = 0;
  let x = 0;
  let pc = 0;
  for (;;) {
    const insn = insns[pc];
    if (insn === undefined) throw new Error(`fell off the program at ${pc}`);
    pc += 1;
    const k = insn.k >>> 0;
    const cls = bpfClass(insn.code);
    switch (cls) {
      case BPF_LD:
        if (insn.code === (BPF_LD | BPF_W | BPF_ABS)) a = bytes.readUInt32LE(k);
        else if (insn.code === (BPF_LD | BPF_W | BPF_LEN)) a = SECCOMP_DATA_SIZE;
        else a = k; // BPF_IMM
        break;
      case BPF_LDX:
        x = insn.code === (BPF_LDX | BPF_W | BPF_LEN) ? SECCOMP_DATA_SIZE : k;
        break;
      case BPF_ALU: {
        const result = alu(bpfOp(insn.code), a, bpfSrc(insn.code) === BPF_X ? x : k);
        // Classic BPF: dividing by a zero X register ends the program with 0.
        if (result === 'div-by-zero') return decodeSeccompReturn(0);
        a = result;
        break;
      }
      case BPF_JMP: {
        const op = bpfOp(insn.code);
        if (op === BPF_JA) {
          pc += k;
        } else {
          pc += jumpTaken(op, a, bpfSrc(insn.code) === BPF_X ? x : k) ? insn.jt : insn.jf;
        }
        break;
      }
      case BPF_RET:
        return decodeSeccompReturn(insn.code === (BPF_RET | BPF_A) ? a : k);
      case BPF_MISC:
        if (insn.code === (BPF_MISC | BPF_TAX)) x = a;
        else a = x;
        break;
      default:
        throw new Error(`unsupported instruction class ${cls}`);
    }
  }
}
