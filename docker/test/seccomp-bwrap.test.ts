/**
 * The seccomp additions, proven on the real kernel without a Docker engine: runbox's own bwrap
 * argv is started the way the container starts it (uid 10001, no capabilities at all, an empty
 * bounding set, no_new_privs) under the rules an engine would select from a profile for such a
 * container, loaded with libseccomp as runc loads them. Needs root (to switch uid and to mask
 * /proc in a private mount namespace), bubblewrap, and Debian's python3-seccomp
 * (docker/apt-packages-test.txt).
 */
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSandboxInvocation } from '../../packages/executor/src/sandbox/sandbox-command.ts';
import { DEFAULT_LIMITS } from '../../packages/executor/src/sandbox/limits.ts';
import {
  buildSeccompFilter,
  hostSeccompArch,
} from '../../packages/executor/src/sandbox/seccomp-filter.ts';
import { SECCOMP_ADDITIONS, type SeccompAddition } from '../seccomp/additions.ts';
import {
  rulesForContainer,
  type ContainerContext,
  type SeccompProfile,
} from '../seccomp/docker-profile.ts';
import { buildRunboxProfile, readDefaultProfile } from '../seccomp/generate.ts';
import { repoPath } from './support/files.ts';

/** The image's USER (docker/Dockerfile). */
const SERVER_UID = 10001;
const PYTHON = '/usr/bin/python3';
const LOADER = repoPath('docker/test/fixtures/apply-seccomp-rules.py');
const MARKER = 'runbox-sandbox-started';

const engineArch = process.arch === 'arm64' ? 'arm64' : 'amd64';
const seccompArch = process.arch === 'arm64' ? 'SCMP_ARCH_AARCH64' : 'SCMP_ARCH_X86_64';
const [kernelMajor = 0, kernelMinor = 0] = release()
  .split('.')
  .map((part) => parseInt(part, 10));
const container: ContainerContext = {
  caps: [],
  arch: engineArch,
  kernel: [kernelMajor, kernelMinor],
};

let dir = '';
let seccompFd = -1;

/** Writes the rules an engine would give the container, in the loader's format. */
function rulesFile(name: string, profile: SeccompProfile): string {
  const arches = profile.archMap?.find((entry) => entry.architecture === seccompArch);
  const path = join(dir, `${name}.json`);
  writeFileSync(
    path,
    JSON.stringify({
      defaultAction: profile.defaultAction,
      architectures: arches ? [arches.architecture, ...arches.subArchitectures] : [],
      syscalls: rulesForContainer(profile, container),
    }),
    { mode: 0o644 },
  );
  return path;
}

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Starts runbox's sandbox argv as the container's server would, under the given rules. */
function startSandbox(rules: string, options: { maskProc?: boolean } = {}): Outcome {
  const invocation = buildSandboxInvocation({
    argv: [
      '/usr/bin/bash',
      '-c',
      `read -r h </proc/sys/kernel/hostname; echo "${MARKER} $(id -u) $h"`,
    ],
    limits: DEFAULT_LIMITS,
    workspaceDir: join(dir, 'workspace'),
    env: { PATH: '/usr/bin:/bin' },
    cgroupJoinFiles: [],
    runAs: null,
    mounts: [],
    tools: {
      sh: '/usr/bin/bash',
      bwrap: '/usr/bin/bwrap',
      init: '/usr/bin/tini-static',
      unshare: '/usr/bin/unshare',
      mount: '/usr/bin/mount',
    },
  });
  const asContainer = [
    '/usr/bin/setpriv',
    `--reuid=${SERVER_UID}`,
    `--regid=${SERVER_UID}`,
    '--clear-groups',
    '--bounding-set=-all',
    '--inh-caps=-all',
    '--',
    PYTHON,
    LOADER,
    rules,
    '--',
    invocation.file,
    ...invocation.args,
  ];
  // Docker's default masks: a file under /dev/null, /proc/sys bound read-only onto itself.
  const mask =
    'set -e; [ -e /proc/kcore ] && mount --bind /dev/null /proc/kcore; ' +
    'mount --bind /proc/sys /proc/sys; mount -o remount,bind,ro /proc/sys; exec "$@"';
  const [file, ...args] = options.maskProc
    ? ['/usr/bin/unshare', '--mount', '--', '/bin/sh', '-c', mask, 'mask', ...asContainer]
    : asContainer;
  const result = spawnSync(file ?? '', args, {
    env: invocation.env,
    stdio: ['ignore', 'pipe', 'pipe', seccompFd, 'pipe'],
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: result.status, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

const started = (outcome: Outcome): boolean =>
  outcome.status === 0 && outcome.stdout.includes(`${MARKER} 1000 runbox`);

describe('bubblewrap in a container without capabilities, under each seccomp profile', () => {
  beforeAll(() => {
    expect(process.getuid?.(), 'these tests switch uid and mount: run them as root').toBe(0);
    const probe = spawnSync(PYTHON, ['-c', 'import seccomp'], { encoding: 'utf8' });
    expect(probe.status, `python3-seccomp: ${probe.stderr}`).toBe(0);
    dir = mkdtempSync(join(tmpdir(), 'runbox-docker-seccomp-'));
    chmodSync(dir, 0o755);
    const workspace = join(dir, 'workspace');
    mkdirSync(workspace, { mode: 0o755 });
    chownSync(workspace, SERVER_UID, SERVER_UID);
    // runbox's own filter for the program, on descriptor 3 as the launcher expects it.
    writeFileSync(join(dir, 'inner.bpf'), buildSeccompFilter(hostSeccompArch()), { mode: 0o644 });
    seccompFd = openSync(join(dir, 'inner.bpf'), 'r');
  });

  afterAll(() => {
    if (seccompFd >= 0) closeSync(seccompFd);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('starts under the runbox profile', () => {
    const outcome = startSandbox(rulesFile('runbox', buildRunboxProfile(readDefaultProfile())));
    expect(started(outcome), outcome.stderr).toBe(true);
  });

  it('cannot start under Docker’s default profile', () => {
    const outcome = startSandbox(rulesFile('default', readDefaultProfile()));
    expect(started(outcome)).toBe(false);
    expect(outcome.stderr).toMatch(/bwrap: /);
  });

  const forThisArch = SECCOMP_ADDITIONS.filter((addition) => {
    const arches = addition.rule.includes?.arches;
    return !arches || arches.length === 0 || arches.includes(engineArch);
  });
  it.each(forThisArch.map((addition): [string, SeccompAddition] => [addition.id, addition]))(
    'cannot start without the addition %s',
    (id, addition) => {
      const others = SECCOMP_ADDITIONS.filter((other) => other !== addition);
      const outcome = startSandbox(
        rulesFile(`without-${id}`, buildRunboxProfile(readDefaultProfile(), others)),
      );
      expect(started(outcome)).toBe(false);
      expect(outcome.stderr).toMatch(/bwrap: .*(Operation not permitted|No permissions)/);
    },
  );

  it('cannot mount the sandbox’s /proc while Docker’s masks cover /proc (hence systempaths=unconfined)', () => {
    const outcome = startSandbox(
      rulesFile('runbox-masked', buildRunboxProfile(readDefaultProfile())),
      {
        maskProc: true,
      },
    );
    expect(started(outcome)).toBe(false);
    expect(outcome.stderr).toMatch(/Can't mount proc/);
  });
});
