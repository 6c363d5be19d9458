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

  it('starts bwrap with nothing of the server environment', () => {
    expect(invocation.file).toBe('/usr/bin/bwrap');
    expect(args[0]).toBe('--unshare-user');
    expect(invocation.env).toEqual({ PATH: '/usr/bin:/bin' });
  });

  it('has the launcher join every cgroup, set the rlimits and drop privileges first', () => {
    expect(invocation.launch).toEqual({
      openFiles: 99,
      // The workspace's size in whole KiB: 12345 bytes allow a file of 12 KiB.
      fileSizeBytes: 12 * 1024,
      cgroupJoinFiles: spec.cgroupJoinFiles,
      layer: null,
      runAs: { uid: 64000, gid: 64001 },
    });
  });

  it('drops nothing when the server already is unprivileged', () => {
    expect(buildSandboxInvocation({ ...spec, runAs: null }).launch.runAs).toBeNull();
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

  it('has the launcher mount the overlay in the workspace by relative names, in a mount namespace of its own', () => {
    expect(layered.file).toBe('/usr/bin/bwrap');
    expect(layered.env).toEqual({ PATH: '/usr/bin:/bin' });
    expect(layered.launch.layer).toEqual({
      dir: '/srv/ws/1',
      source: 'runbox-project',
      target: 'merged',
      options: 'lowerdir=lower,upperdir=upper,workdir=work,redirect_dir=off,metacopy=off,index=off',
    });
    expect(layered.launch.cgroupJoinFiles).toEqual(spec.cgroupJoinFiles);
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
