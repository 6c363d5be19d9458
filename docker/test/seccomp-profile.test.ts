import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLONE_NAMESPACE_FLAGS, CLONE_NEWUSER, SECCOMP_ADDITIONS } from '../seccomp/additions.ts';
import {
  rulesForContainer,
  verdictFor,
  type ContainerContext,
  type SeccompProfile,
} from '../seccomp/docker-profile.ts';
import {
  DEBIAN_DEFAULT_PROFILE,
  additionRule,
  buildRunboxProfile,
  readDefaultProfile,
  renderProfile,
  RUNBOX_PROFILE,
} from '../seccomp/generate.ts';
import { readRepoFile } from './support/files.ts';

const committedText = readFileSync(RUNBOX_PROFILE, 'utf8');
const committed = JSON.parse(committedText) as SeccompProfile;

const CLONE_NEWNS = 0x00020000n;
const CLONE_NEWPID = 0x20000000n;
const CLONE_NEWNET = 0x40000000n;
const NEWUSER = BigInt(CLONE_NEWUSER);
const SIGCHLD = 17n;

/** A container as docker/compose.yaml starts it: cap_drop ALL, on x86-64. */
const capless: ContainerContext = { caps: [], arch: 'amd64', kernel: [6, 8] };

const verdict = (profile: SeccompProfile, context: ContainerContext) => {
  const rules = rulesForContainer(profile, context);
  return (name: string, ...args: bigint[]) => verdictFor(rules, profile, name, args).action;
};

describe('docker/seccomp.json', () => {
  it('is Docker-format JSON that denies by default', () => {
    expect(committed.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(Array.isArray(committed.syscalls)).toBe(true);
    expect(committed.archMap?.map((a) => a.architecture)).toContain('SCMP_ARCH_X86_64');
  });

  it('is Debian’s Docker default profile plus exactly the documented additions', () => {
    expect(
      existsSync(DEBIAN_DEFAULT_PROFILE),
      `${DEBIAN_DEFAULT_PROFILE} is missing: apt-get install golang-github-docker-docker-dev (docker/apt-packages-test.txt)`,
    ).toBe(true);
    const dockerDefault = readDefaultProfile();
    expect(committed).toEqual(buildRunboxProfile(dockerDefault));
    // Spelled out: the default's rules untouched and in order, then the additions in order.
    const base = dockerDefault.syscalls.length;
    expect(committed.syscalls.slice(0, base)).toEqual(dockerDefault.syscalls);
    expect(committed.syscalls.slice(base)).toEqual(SECCOMP_ADDITIONS.map(additionRule));
    expect({ ...committed, syscalls: [] }).toEqual({ ...dockerDefault, syscalls: [] });
  });

  it('is exactly what node docker/seccomp/generate.ts writes', async () => {
    expect(committedText).toBe(await renderProfile(buildRunboxProfile(readDefaultProfile())));
  });

  it('documents every addition in docs/deploy.md', () => {
    const ids = SECCOMP_ADDITIONS.map((addition) => addition.id);
    expect(new Set(ids).size).toBe(ids.length);
    const deploy = readRepoFile('docs/deploy.md');
    for (const addition of SECCOMP_ADDITIONS) {
      expect(addition.why.length, addition.id).toBeGreaterThan(60);
      expect(deploy, `docs/deploy.md names ${addition.id}`).toContain(`\`${addition.id}\``);
    }
  });
});

describe('what a container without capabilities may do under each profile', () => {
  const dockerDefault = existsSync(DEBIAN_DEFAULT_PROFILE) ? readDefaultProfile() : null;
  const before = dockerDefault ? verdict(dockerDefault, capless) : null;
  const after = verdict(committed, capless);

  it('Docker’s default refuses every call bwrap needs to build a sandbox', () => {
    expect(before).not.toBeNull();
    if (!before) return;
    expect(before('clone', SIGCHLD | NEWUSER | CLONE_NEWNS | CLONE_NEWPID)).toBe('SCMP_ACT_ERRNO');
    expect(before('unshare', NEWUSER)).toBe('SCMP_ACT_ERRNO');
    for (const name of ['mount', 'umount2', 'pivot_root', 'sethostname']) {
      expect(before(name), name).toBe('SCMP_ACT_ERRNO');
    }
  });

  it('the runbox profile allows them, namespaces only together with a new user namespace', () => {
    expect(after('clone', SIGCHLD | NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET)).toBe(
      'SCMP_ACT_ALLOW',
    );
    expect(after('clone', SIGCHLD)).toBe('SCMP_ACT_ALLOW');
    expect(after('clone', SIGCHLD | CLONE_NEWNS)).toBe('SCMP_ACT_ERRNO');
    expect(after('clone', SIGCHLD | CLONE_NEWNET | CLONE_NEWPID)).toBe('SCMP_ACT_ERRNO');
    expect(after('unshare', NEWUSER)).toBe('SCMP_ACT_ALLOW');
    expect(after('unshare', CLONE_NEWNS)).toBe('SCMP_ACT_ERRNO');
    expect(after('unshare', CLONE_NEWNET)).toBe('SCMP_ACT_ERRNO');
    for (const name of ['mount', 'umount2', 'pivot_root', 'sethostname']) {
      expect(after(name), name).toBe('SCMP_ACT_ALLOW');
    }
    // clone3 keeps answering ENOSYS, so that libc falls back to clone, whose flags are checked.
    expect(verdictFor(rulesForContainer(committed, capless), committed, 'clone3')).toEqual({
      action: 'SCMP_ACT_ERRNO',
      errno: 38,
    });
  });

  it('reads the clone flags from the second argument on s390x', () => {
    const s390x = verdict(committed, { ...capless, arch: 's390x' });
    expect(s390x('clone', 0n, SIGCHLD | NEWUSER | CLONE_NEWNS)).toBe('SCMP_ACT_ALLOW');
    expect(s390x('clone', 0n, SIGCHLD | CLONE_NEWNS)).toBe('SCMP_ACT_ERRNO');
  });

  it('changes nothing else: every other call gets the same answer as under Docker’s default', () => {
    expect(before).not.toBeNull();
    if (!before || !dockerDefault) return;
    const added = new Set(SECCOMP_ADDITIONS.flatMap((a) => a.rule.names));
    const names = new Set(
      [...dockerDefault.syscalls, ...committed.syscalls].flatMap((rule) => rule.names),
    );
    for (const name of ['setns', 'chroot', 'bpf', 'keyctl', 'open_by_handle_at', 'init_module']) {
      names.add(name);
    }
    const samples = [[], [0n], [SIGCHLD], [BigInt(CLONE_NAMESPACE_FLAGS)], [0xffffffffn]];
    for (const name of [...names].filter((n) => !added.has(n))) {
      for (const args of samples) {
        expect(after(name, ...args), `${name}(${args.join(', ')})`).toBe(before(name, ...args));
      }
    }
    for (const name of ['setns', 'chroot', 'bpf', 'keyctl', 'open_by_handle_at']) {
      expect(after(name), name).toBe('SCMP_ACT_ERRNO');
    }
  });

  it('gives a container with CAP_SYS_ADMIN nothing the default does not, except pivot_root', () => {
    expect(dockerDefault).not.toBeNull();
    if (!dockerDefault) return;
    const admin: ContainerContext = { ...capless, caps: ['CAP_SYS_ADMIN'] };
    const extra = rulesForContainer(committed, admin).slice(
      rulesForContainer(dockerDefault, admin).length,
    );
    expect(extra.flatMap((rule) => rule.names)).toEqual(['pivot_root']);
  });
});
