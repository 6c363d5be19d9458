import {
  LAYER_MERGED,
  LAYER_MOUNT_DATA,
  LAYER_SOURCE,
  layerMergedDir,
} from '../project/project-layer.ts';
import type { LaunchSpec } from './sandbox-forker.ts';
import type { SandboxLimits } from './limits.ts';

/** Where the run's workspace appears inside the sandbox; also the working directory. */
export const SANDBOX_WORKSPACE = '/workspace';
/** Identity of the user code inside its user namespace (mapped to an unprivileged host uid). */
export const SANDBOX_UID = 1000;
export const SANDBOX_GID = 1000;
export const SANDBOX_HOSTNAME = 'runbox';

/** File descriptors the launcher is given, in the child's numbering. */
export const SECCOMP_FD = 3;
export const STATUS_FD = 4;
/**
 * A warm sandbox's runner writes one byte here once it is loaded and waiting, then closes it,
 * before it reads its run's arguments: no program ever holds it.
 */
export const READY_FD = 5;

/**
 * A read-only bind. Its source's path inside the source's filesystem is what the sandbox's
 * mountinfo shows for it, so sources are the sandbox's own files (sandbox-files.ts), not host
 * paths. A dest under /proc/ covers a file of the sandbox's /proc and is bound after /proc exists.
 */
export interface ReadOnlyMount {
  source: string;
  dest: string;
  /** Skip silently when the source does not exist (bwrap --ro-bind-try). */
  optional?: boolean;
}

export interface HostTools {
  /** bash, for the project-layer probe (project-layer.ts). */
  sh: string;
  bwrap: string;
  /** tini-static, the sandbox's pid 1; under /usr, which every sandbox sees. */
  init: string;
  /** util-linux's unshare and mount, for the project-layer probe and environments' overlays. */
  unshare: string;
  mount: string;
}

export interface SandboxCommandSpec {
  /** Program and arguments, as seen inside the sandbox. */
  argv: readonly string[];
  limits: SandboxLimits;
  /** Host directory bound read-write at /workspace. */
  workspaceDir: string;
  /** The complete environment of the user program (already an allowlist). */
  env: Readonly<Record<string, string>>;
  /** cgroup files the launcher writes "0" (itself) into before anything else runs. */
  cgroupJoinFiles: readonly string[];
  /** Host uid/gid to drop to before bwrap starts; null when the server already is unprivileged. */
  runAs: { uid: number; gid: number } | null;
  /** Read-only binds besides /usr: the sandbox's /etc and /opt/runbox, the masks over /proc files. */
  mounts: readonly ReadOnlyMount[];
  tools: HostTools;
  /**
   * Keep READY_FD open into the sandbox (a warm one's runner signals on it; a tty run's wrapper
   * takes its resizes on it). @default false
   */
  readyFd?: boolean | undefined;
  /**
   * `workspaceDir` holds a project layer (project/project-layer.ts): the launcher mounts it in a
   * mount namespace of its own, and its merged view is bound at /workspace. @default false
   */
  projectLayer?: boolean | undefined;
}

export interface SandboxInvocation {
  /** bwrap, and its arguments. */
  file: string;
  args: string[];
  /**
   * bwrap's environment. It is readable from inside the sandbox through /proc/1/environ, so it
   * holds nothing of the server's.
   */
  env: Record<string, string>;
  /**
   * What the launcher (the forker's child, sandbox-forker.py) does before it execs bwrap, as
   * root (or the server's user), before anything of the run exists:
   * - keeps no descriptor but stdio, the seccomp program, the status pipe (and a warm sandbox's
   *   ready pipe): one the server holds would otherwise reach the sandbox;
   * - resets every signal's disposition and the signal mask;
   * - sets the rlimits (open files, file size, no core dumps);
   * - joins the run's cgroups before it execs anything, so every process the run ever makes is
   *   born inside them: there is no window in which a fork escapes the limits or the kill;
   * - for a project layer: takes a private mount namespace and mounts the overlay in the
   *   workspace directory by relative names, once in the run's cgroups;
   * - drops privileges for good (no groups, the runs' uid and gid, no_new_privs).
   */
  launch: LaunchSpec;
}

/**
 * PID 1 of the sandbox: tini, statically linked (it needs nothing of the sandbox's /usr/lib).
 * bwrap's own init hands the exit status to its monitor through an eventfd and the monitor exits
 * without reaping it, which leaves a zombie for the host's init (and in a container whose init does
 * not reap, for ever). With --as-pid-1 the monitor waits for tini, which, as the namespace's init,
 * reaps every orphan the program leaves and exits with the program's status (128 + the signal for
 * one killed by a signal). It replaced a bash here: the same duties, about 2 ms less per run.
 */
export function sandboxInit(tools: HostTools): readonly string[] {
  return [tools.init, '--'];
}

const coversProcFile = (mount: ReadOnlyMount): boolean => mount.dest.startsWith('/proc/');

const roBind = (mount: ReadOnlyMount): string[] => [
  mount.optional ? '--ro-bind-try' : '--ro-bind',
  mount.source,
  mount.dest,
];

/** Pure: limits and paths in, the argv that starts the sandbox out. */
export function buildSandboxInvocation(spec: SandboxCommandSpec): SandboxInvocation {
  if (spec.argv.length === 0) throw new TypeError('sandbox argv must name a program');
  const { limits, tools } = spec;

  const bwrap = [
    // Namespaces: a user namespace with one unprivileged id, and a fresh one of every other kind.
    '--unshare-user',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_GID),
    '--disable-userns',
    '--unshare-pid',
    '--as-pid-1',
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup',
    '--hostname',
    SANDBOX_HOSTNAME,
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    // Filesystem: an empty root with only what the languages need, all of it read-only.
    '--ro-bind',
    '/usr',
    '/usr',
    '--symlink',
    'usr/bin',
    '/bin',
    '--symlink',
    'usr/sbin',
    '/sbin',
    '--symlink',
    'usr/lib',
    '/lib',
    '--symlink',
    'usr/lib64',
    '/lib64',
    ...spec.mounts.filter((m) => !coversProcFile(m)).flatMap(roBind),
    '--proc',
    '/proc',
    // bwrap makes each mount in order: a file of /proc can be covered only once /proc is there.
    ...spec.mounts.filter(coversProcFile).flatMap(roBind),
    '--dev',
    '/dev',
    '--size',
    String(limits.tmpBytes),
    '--perms',
    '1777',
    '--tmpfs',
    '/tmp',
    '--size',
    String(limits.tmpBytes),
    '--perms',
    '1777',
    '--tmpfs',
    '/dev/shm',
    '--bind',
    spec.projectLayer ? layerMergedDir(spec.workspaceDir) : spec.workspaceDir,
    SANDBOX_WORKSPACE,
    '--remount-ro',
    '/dev',
    '--remount-ro',
    '/',
    '--chdir',
    SANDBOX_WORKSPACE,
    '--clearenv',
    ...Object.entries(spec.env).flatMap(([name, value]) => ['--setenv', name, value]),
    '--seccomp',
    String(SECCOMP_FD),
    '--json-status-fd',
    String(STATUS_FD),
    '--',
    ...sandboxInit(tools),
    ...spec.argv,
  ];

  if (spec.projectLayer && spec.readyFd)
    throw new TypeError('a warm sandbox cannot take a project layer');
  return {
    file: tools.bwrap,
    args: bwrap,
    env: { PATH: '/usr/bin:/bin' },
    launch: {
      openFiles: limits.openFiles,
      // The largest file the run may write: its workspace's size, in whole KiB.
      fileSizeBytes: Math.floor(limits.workspaceBytes / 1024) * 1024,
      cgroupJoinFiles: spec.cgroupJoinFiles,
      layer: spec.projectLayer
        ? {
            dir: spec.workspaceDir,
            source: LAYER_SOURCE,
            target: LAYER_MERGED,
            options: LAYER_MOUNT_DATA,
          }
        : null,
      runAs: spec.runAs,
    },
  };
}
