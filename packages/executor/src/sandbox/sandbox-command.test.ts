import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from './limits.ts';
import { buildSandboxInvocation, type SandboxCommandSpec } from './sandbox-command.ts';

const spec: SandboxCommandSpec = {
  argv: ['/usr/bin/python3', '/workspace/main.py'],
  limits: { ...DEFAULT_LIMITS, openFiles: 99, workspaceBytes: 12345, tmpBytes: 777 },
  workspaceDir: '/srv/ws/1',
  env: { PATH: '/usr/bin', HOME: '/tmp' },
  cgroupJoinFiles: ['/cg/memory/r1/tasks', '/cg/pids/r1/tasks'],
  runAs: { uid: 64000, gid: 64001 },
  mounts: [
    { source: '/host/node', dest: '/opt/runbox/bin/node' },
    { source: '/etc/alternatives', dest: '/etc/alternatives', optional: true },
  ],
  tools: {
    sh: '/bin/bash',
    setpriv: '/usr/bin/setpriv',
    bwrap: '/usr/bin/bwrap',
    init: '/usr/bin/tini-static',
    unshare: '/usr/bin/unshare',
    mount: '/usr/bin/mount',
  },
};

function pairsAfter(args: readonly string[], flag: string): string[] {
  return args.flatMap((arg, index) => (arg === flag ? [args[index + 1] ?? ''] : []));
}

describe('buildSandboxInvocation', () => {
  const invocation = buildSandboxInvocation(spec);
  const { args } = invocation;

  it('starts the launcher with nothing of the server environment', () => {
    expect(invocation.file).toBe('/bin/bash');
    expect(invocation.env).toEqual({ PATH: '/usr/bin:/bin' });
  });

  it('joins every cgroup before the first exec, in order', () => {
    const separator = args.indexOf('--');
    expect(args.slice(0, 3)).toEqual(['--norc', '--noprofile', '-c']);
    expect(args.slice(7, separator)).toEqual(spec.cgroupJoinFiles);
    expect(args[separator + 1]).toBe('/usr/bin/setpriv');
  });

  it('hands the launcher the descriptor limit and the file-size limit in KiB', () => {
    expect(args.slice(4, 7)).toEqual(['runbox-launch', '99', '12']);
  });

  it('drops to the unprivileged host uid before bwrap, with no groups and no_new_privs', () => {
    const setpriv = args.indexOf('/usr/bin/setpriv');
    const bwrap = args.indexOf('/usr/bin/bwrap');
    expect(setpriv).toBeGreaterThan(0);
    expect(setpriv).toBeLessThan(bwrap);
    expect(args.slice(setpriv, bwrap)).toEqual([
      '/usr/bin/setpriv',
      '--reuid=64000',
      '--regid=64001',
      '--clear-groups',
      '--no-new-privs',
      '--',
    ]);
  });

  it('skips setpriv when the server already is unprivileged', () => {
    expect(buildSandboxInvocation({ ...spec, runAs: null }).args).not.toContain('/usr/bin/setpriv');
  });

  it('asks for every namespace and the process-hygiene flags', () => {
    for (const flag of [
      '--unshare-user',
      '--disable-userns',
      '--unshare-pid',
      '--as-pid-1',
      '--unshare-net',
      '--unshare-ipc',
      '--unshare-uts',
      '--unshare-cgroup',
      '--die-with-parent',
      '--new-session',
      '--clearenv',
    ]) {
      expect(args).toContain(flag);
    }
    expect(pairsAfter(args, '--cap-drop')).toEqual(['ALL']);
    expect(pairsAfter(args, '--seccomp')).toEqual(['3']);
  });

  it('binds only /usr, the given runtimes and the workspace; everything else read-only', () => {
    expect(pairsAfter(args, '--bind')).toEqual(['/srv/ws/1']);
    expect(pairsAfter(args, '--ro-bind')).toEqual(['/usr', '/host/node']);
    expect(pairsAfter(args, '--ro-bind-try')).toEqual(['/etc/alternatives']);
    expect(pairsAfter(args, '--remount-ro')).toEqual(['/dev', '/']);
    // Read-only remounts come after every mount they must cover.
    expect(args.lastIndexOf('--remount-ro')).toBeGreaterThan(args.indexOf('--bind'));
    expect(pairsAfter(args, '--tmpfs')).toEqual(['/tmp', '/dev/shm']);
    expect(pairsAfter(args, '--size')).toEqual(['777', '777']);
  });

  it('covers /proc files only after /proc is mounted, every other bind before it', () => {
    const masked = buildSandboxInvocation({
      ...spec,
      mounts: [
        { source: '/files/empty', dest: '/proc/cmdline' },
        { source: '/files/etc', dest: '/etc' },
        { source: '/files/empty', dest: '/proc/kallsyms' },
      ],
    }).args;
    const proc = masked.indexOf('--proc');
    expect(masked[proc + 1]).toBe('/proc');
    expect(masked.indexOf('/etc')).toBeLessThan(proc);
    expect(masked.slice(proc + 2, proc + 8)).toEqual([
      '--ro-bind',
      '/files/empty',
      '/proc/cmdline',
      '--ro-bind',
      '/files/empty',
      '/proc/kallsyms',
    ]);
  });

  it('passes exactly the given environment and ends with the program argv', () => {
    expect(pairsAfter(args, '--setenv')).toEqual(['PATH', 'HOME']);
    expect(args.slice(-5)).toEqual([
      '--',
      '/usr/bin/tini-static',
      '--',
      '/usr/bin/python3',
      '/workspace/main.py',
    ]);
  });

  it('refuses an empty argv', () => {
    expect(() => buildSandboxInvocation({ ...spec, argv: [] })).toThrow(/must name a program/);
  });
});

describe('buildSandboxInvocation with a project layer', () => {
  const layered = buildSandboxInvocation({ ...spec, projectLayer: true });
  const { args } = layered;

  it('starts the launcher in a private mount namespace of its own, with the same environment', () => {
    expect(layered.file).toBe('/usr/bin/unshare');
    expect(args.slice(0, 5)).toEqual(['--mount', '--propagation', 'private', '--', '/bin/bash']);
    expect(layered.env).toEqual({ PATH: '/usr/bin:/bin' });
  });

  it('hands the launcher mount(8) and the workspace, then the cgroups, then setpriv', () => {
    const separator = args.indexOf('--', 5);
    expect(args.slice(9, separator)).toEqual([
      'runbox-launch',
      '99',
      '12',
      '/usr/bin/mount',
      '/srv/ws/1',
      ...spec.cgroupJoinFiles,
    ]);
    expect(args[separator + 1]).toBe('/usr/bin/setpriv');
  });

  it('mounts the overlay by relative names only, after joining the cgroups, and fails closed', () => {
    const script = args[8] ?? '';
    const join = script.indexOf('echo 0 >"$1"');
    const mount = script.indexOf('"$mount"');
    expect(join).toBeGreaterThan(0);
    expect(mount).toBeGreaterThan(join);
    expect(script).toContain(
      "'-o' 'nosuid,nodev,lowerdir=lower,upperdir=upper,workdir=work,redirect_dir=off,metacopy=off,index=off' 'runbox-project' 'merged'",
    );
    expect(script).toMatch(/cd -- "\$layer" && .* \|\| exit 125/);
  });

  it('binds the merged view at /workspace, not the workspace directory', () => {
    expect(pairsAfter(args, '--bind')).toEqual(['/srv/ws/1/merged']);
    expect(args[args.indexOf('/srv/ws/1/merged') + 1]).toBe('/workspace');
  });

  it('is never a warm sandbox', () => {
    expect(() => buildSandboxInvocation({ ...spec, projectLayer: true, readyFd: true })).toThrow(
      /warm sandbox/,
    );
  });
});
