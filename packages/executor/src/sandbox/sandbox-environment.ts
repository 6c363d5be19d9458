import {
  SANDBOX_GID,
  SANDBOX_HOSTNAME,
  SANDBOX_UID,
  SANDBOX_WORKSPACE,
} from './sandbox-command.ts';

/** Where runtimes that do not live under /usr (the Node 24 binary) appear inside the sandbox. */
export const SANDBOX_RUNTIME_BIN = '/opt/runbox/bin';

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
