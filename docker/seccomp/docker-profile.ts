/**
 * Docker's seccomp profile format (moby `profiles/seccomp`: `Seccomp`, `Syscall`, `Filter`), and
 * how the engine turns a profile into the rules a container gets: the same selection as moby's
 * `setupSeccomp`, so that a test can ask what a container with a given capability set is allowed.
 */

export type SeccompAction =
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_LOG';

export type SeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

/** One argument comparison. For SCMP_CMP_MASKED_EQ, `value` is the mask and `valueTwo` the datum. */
export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: SeccompOperator;
}

/** When a rule applies: every listed capability present, the engine's arch listed, kernel >= min. */
export interface SeccompFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface SeccompSyscallRule {
  names: string[];
  action: SeccompAction;
  errnoRet?: number;
  args?: SeccompArg[] | null;
  comment?: string;
  includes?: SeccompFilter;
  excludes?: SeccompFilter;
}

export interface SeccompArchMapEntry {
  architecture: string;
  subArchitectures: string[];
}

export interface SeccompProfile {
  defaultAction: SeccompAction;
  defaultErrnoRet?: number;
  archMap?: SeccompArchMapEntry[];
  syscalls: SeccompSyscallRule[];
}

/** What the engine knows when it applies a profile: the container's bounding set, arch, kernel. */
export interface ContainerContext {
  /** Capabilities left after cap_drop / cap_add, e.g. [] for `cap_drop: [ALL]`. */
  caps: readonly string[];
  /** libseccomp's name for the engine's arch: 'amd64', 'arm64', 's390x', ... */
  arch: string;
  /** The host kernel as [major, minor]. */
  kernel: readonly [number, number];
}

function kernelAtLeast(kernel: readonly [number, number], min: string): boolean {
  const [major, minor] = min.split('.').map(Number);
  if (major === undefined || minor === undefined || Number.isNaN(major) || Number.isNaN(minor)) {
    throw new Error(`invalid minKernel "${min}": expected "<kernel>.<major>"`);
  }
  return kernel[0] > major || (kernel[0] === major && kernel[1] >= minor);
}

/** Mirrors moby's setupSeccomp: the rules a container with `context` gets, in profile order. */
export function rulesForContainer(
  profile: SeccompProfile,
  context: ContainerContext,
): SeccompSyscallRule[] {
  return profile.syscalls.filter((rule) => {
    const excludes = rule.excludes ?? {};
    const includes = rule.includes ?? {};
    if (excludes.arches?.includes(context.arch)) return false;
    if (excludes.caps?.some((cap) => context.caps.includes(cap))) return false;
    if (excludes.minKernel && kernelAtLeast(context.kernel, excludes.minKernel)) return false;
    if (includes.arches && includes.arches.length > 0 && !includes.arches.includes(context.arch))
      return false;
    if (includes.caps?.some((cap) => !context.caps.includes(cap))) return false;
    if (includes.minKernel && !kernelAtLeast(context.kernel, includes.minKernel)) return false;
    return true;
  });
}

/** Evaluates one comparison the way libseccomp does, on 64-bit values. */
function argMatches(arg: SeccompArg, values: readonly bigint[]): boolean {
  const actual = values[arg.index] ?? 0n;
  const value = BigInt(arg.value);
  const valueTwo = BigInt(arg.valueTwo ?? 0);
  switch (arg.op) {
    case 'SCMP_CMP_NE':
      return actual !== value;
    case 'SCMP_CMP_LT':
      return actual < value;
    case 'SCMP_CMP_LE':
      return actual <= value;
    case 'SCMP_CMP_EQ':
      return actual === value;
    case 'SCMP_CMP_GE':
      return actual >= value;
    case 'SCMP_CMP_GT':
      return actual > value;
    case 'SCMP_CMP_MASKED_EQ':
      return (actual & value) === valueTwo;
  }
}

export interface SyscallVerdict {
  action: SeccompAction;
  errno?: number;
}

/**
 * The verdict for one call: the action of the rules whose comparisons all hold (rules for the same
 * name are alternatives), else the default action. Rules that match one call with different
 * actions are refused rather than guessed at: libseccomp's tie-break is not modelled here.
 */
export function verdictFor(
  rules: readonly SeccompSyscallRule[],
  profile: Pick<SeccompProfile, 'defaultAction' | 'defaultErrnoRet'>,
  name: string,
  args: readonly bigint[] = [],
): SyscallVerdict {
  const matching = rules.filter(
    (rule) => rule.names.includes(name) && (rule.args ?? []).every((arg) => argMatches(arg, args)),
  );
  const first = matching[0];
  if (!first) return { action: profile.defaultAction, errno: profile.defaultErrnoRet ?? 1 };
  if (matching.some((rule) => rule.action !== first.action || rule.errnoRet !== first.errnoRet)) {
    throw new Error(`rules with different actions match ${name}(${args.join(', ')})`);
  }
  return first.action === 'SCMP_ACT_ALLOW'
    ? { action: first.action }
    : { action: first.action, errno: first.errnoRet ?? 1 };
}
