import {
  SANDBOX_GID,
  SANDBOX_HOSTNAME,
  SANDBOX_UID,
  SANDBOX_WORKSPACE,
} from './sandbox-command.ts';

/** runbox's own files inside the sandbox: the Node binary, the language runners, the tools. */
export const SANDBOX_OPT_DIR = '/opt/runbox';

/** Where runtimes that do not live under /usr (the Node 24 binary) appear inside the sandbox. */
export const SANDBOX_RUNTIME_BIN = `${SANDBOX_OPT_DIR}/bin`;

/** The whole environment a sandboxed program sees. Nothing of the server's is passed through. */
export function baseSandboxEnv(): Record<string, string> {
  return {
    PATH: `${SANDBOX_RUNTIME_BIN}:/usr/local/bin:/usr/bin:/bin`,
    HOME: '/tmp',
    TMPDIR: '/tmp',
    USER: 'runner',
    LOGNAME: 'runner',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TERM: 'dumb',
    PWD: SANDBOX_WORKSPACE,
    // Live output: Python buffers a pipe by default.
    PYTHONUNBUFFERED: '1',
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

/** Names a run may set for itself on top of the base; everything else is refused. */
export const ALLOWED_EXTRA_ENV =
  /^(?!LD_|BASH_ENV$|ENV$|PYTHONSTARTUP$|NODE_OPTIONS$)[A-Z][A-Z0-9_]{0,63}$/;

/** Contents of the synthetic /etc files: the sandbox's only user, and no host accounts. */
export function syntheticEtcFiles(): Record<string, string> {
  return {
    passwd: `root:x:0:0:root:/root:/usr/sbin/nologin\nrunner:x:${SANDBOX_UID}:${SANDBOX_GID}:runbox:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n`,
    group: `root:x:0:\nrunner:x:${SANDBOX_GID}:\nnogroup:x:65534:\n`,
    hosts: `127.0.0.1 localhost ${SANDBOX_HOSTNAME}\n::1 localhost ip6-localhost\n`,
    hostname: `${SANDBOX_HOSTNAME}\n`,
    'nsswitch.conf': 'passwd: files\ngroup: files\nhosts: files\n',
  };
}

/**
 * Host /etc entries the runtimes need, copied (links kept as links) into the sandbox's own /etc
 * when present. One bind of a prepared directory costs bwrap far less than a bind per file.
 */
export const HOST_ETC_COPIES = [
  '/etc/alternatives',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
  '/etc/localtime',
  '/etc/mime.types',
  '/etc/python3',
  '/etc/python3.11',
] as const;

/**
 * Files of /proc that describe the host rather than the sandbox: the kernel's command line (boot
 * parameters, the hypervisor's), symbols, modules and configuration, keys and key owners, every
 * CPU's timers with the host's tasks, the scheduler's view of every task, latency records and
 * physical memory. Each one this kernel has and anyone may read is covered by an empty read-only
 * file (the sandbox's uid cannot read the others anyway). /proc/version stays: it says what
 * uname(2) says anyway, plus the compiler that built the kernel.
 */
export const MASKED_PROC_FILES = [
  '/proc/cmdline',
  '/proc/config.gz',
  '/proc/kallsyms',
  '/proc/kcore',
  '/proc/keys',
  '/proc/key-users',
  '/proc/latency_stats',
  '/proc/modules',
  '/proc/sched_debug',
  '/proc/timer_list',
  '/proc/timer_stats',
] as const;
