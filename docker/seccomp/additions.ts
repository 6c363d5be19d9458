import type { SeccompSyscallRule } from './docker-profile.ts';

/**
 * What runbox's container profile (docker/seccomp.json) adds to Docker's default profile, and
 * nothing else: the calls bubblewrap makes to build a sandbox as an unprivileged user, in a
 * container started with `cap_drop: [ALL]`. Found by tracing bwrap with runbox's own argv
 * (`strace -f`, as uid 10001 with an empty bounding set and no_new_privs), and each one checked
 * necessary by removing it: docs/deploy.md lists them with the trace.
 *
 * Every addition is gated so that it cannot widen a container that was given CAP_SYS_ADMIN (there
 * the default profile already allows these calls) and so that new namespaces come only with a new
 * user namespace: the kernel then grants capabilities inside that namespace only, over mounts and
 * resources the process creates there. The sandboxed program is under this profile too, and under
 * runbox's own stricter filter (packages/executor/src/sandbox/seccomp-filter.ts), which denies
 * every one of these calls again.
 */
export interface SeccompAddition {
  /** A short name, used in docs/deploy.md and in the generated rule's comment. */
  id: string;
  /** Why bubblewrap needs it and why it is safe enough without CAP_SYS_ADMIN. */
  why: string;
  rule: Omit<SeccompSyscallRule, 'comment'>;
}

/** CLONE_NEWUSER from <linux/sched.h>. */
export const CLONE_NEWUSER = 0x10000000;

/** The namespace flags Docker's default profile refuses in clone() without CAP_SYS_ADMIN. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

const withNewUserNamespace = (index: number) =>
  [{ index, value: CLONE_NEWUSER, valueTwo: CLONE_NEWUSER, op: 'SCMP_CMP_MASKED_EQ' }] as const;

export const SECCOMP_ADDITIONS: readonly SeccompAddition[] = [
  {
    id: 'clone-newuser',
    why:
      'bwrap starts the sandbox with one clone() that creates a new user namespace together with ' +
      'the mount, pid, net, ipc, uts and cgroup namespaces. The default profile allows clone() ' +
      'without CAP_SYS_ADMIN only with no namespace flag; this allows it when CLONE_NEWUSER is ' +
      'among the flags, so that every other new namespace belongs to the new user namespace.',
    rule: {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [...withNewUserNamespace(0)],
      includes: {},
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    },
  },
  {
    id: 'clone-newuser-s390',
    why:
      'The same clone() rule for s390 and s390x, where the flags are the second argument ' +
      "(Docker's default profile makes the same distinction).",
    rule: {
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [...withNewUserNamespace(1)],
      includes: { arches: ['s390', 's390x'] },
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
  },
  {
    id: 'unshare-newuser',
    why:
      'bwrap --disable-userns calls unshare(CLONE_NEWUSER) inside the sandbox after lowering ' +
      'user.max_user_namespaces there, to enter a nested user namespace that can create no ' +
      'other; it then checks that a second unshare(CLONE_NEWUSER) fails. Allowed only with ' +
      'CLONE_NEWUSER among the flags.',
    rule: {
      names: ['unshare'],
      action: 'SCMP_ACT_ALLOW',
      args: [...withNewUserNamespace(0)],
      includes: {},
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
  },
  {
    id: 'mount',
    why:
      "bwrap builds the sandbox's filesystem in its new mount namespace: a tmpfs root, read-only " +
      'bind mounts, a new procfs, devpts, sized tmpfs for /tmp and /dev/shm, read-only remounts, ' +
      'and umount2 to detach the old root. Without CAP_SYS_ADMIN in the container, the kernel ' +
      'allows these only in a mount namespace owned by a user namespace the caller created, only ' +
      'for filesystems that may be mounted there (tmpfs, proc, devpts, ...), and keeps the ' +
      'flags of mounts inherited from the container locked. Paths and filesystem types are ' +
      'pointers a seccomp filter cannot read, so the profile does not narrow them further.',
    rule: {
      names: ['mount', 'umount2'],
      action: 'SCMP_ACT_ALLOW',
      args: [],
      includes: {},
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
  },
  {
    id: 'pivot-root',
    why:
      "bwrap makes the new tmpfs the sandbox's root with pivot_root (twice: into the new root, " +
      'then onto itself before the old root is detached). It needs CAP_SYS_ADMIN in the user ' +
      "namespace owning the mount namespace, which only the new one gives. Docker's default " +
      'profile does not allow pivot_root at all, even with CAP_SYS_ADMIN, so this rule has no ' +
      'capability condition.',
    rule: {
      names: ['pivot_root'],
      action: 'SCMP_ACT_ALLOW',
      args: [],
      includes: {},
      excludes: {},
    },
  },
  {
    id: 'sethostname',
    why:
      "bwrap --hostname runbox names the sandbox in its new UTS namespace. The container's own " +
      "UTS namespace belongs to the host's user namespace, where the container has no " +
      'capability, so the container still cannot rename itself.',
    rule: {
      names: ['sethostname'],
      action: 'SCMP_ACT_ALLOW',
      args: [],
      includes: {},
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
  },
];
