/**
 * Writes docker/seccomp.json: Docker's default seccomp profile, read from the copy Debian ships in
 * golang-github-docker-docker-dev, plus exactly the rules in additions.ts, appended in order.
 *
 *   node docker/seccomp/generate.ts [--default PATH] [--check]
 *
 * --default PATH  another copy of Docker's default.json (default: Debian's, below)
 * --check         write nothing; exit 1 when docker/seccomp.json is not what would be written
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { SECCOMP_ADDITIONS, type SeccompAddition } from './additions.ts';
import type { SeccompProfile, SeccompSyscallRule } from './docker-profile.ts';

/** Where Debian's golang-github-docker-docker-dev puts moby's profiles/seccomp/default.json. */
export const DEBIAN_DEFAULT_PROFILE =
  '/usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json';

/** The committed profile that docker/compose.yaml passes with `seccomp=./seccomp.json`. */
export const RUNBOX_PROFILE = fileURLToPath(new URL('../seccomp.json', import.meta.url));

/** The rule an addition becomes in the profile, its reason kept as the rule's comment. */
export function additionRule(addition: SeccompAddition): SeccompSyscallRule {
  const { names, action, args, includes, excludes } = addition.rule;
  return {
    names: [...names],
    action,
    args: args ? args.map((arg) => ({ ...arg })) : [],
    comment: `runbox (${addition.id}): ${addition.why}`,
    includes: { ...includes },
    excludes: { ...excludes },
  };
}

export function readDefaultProfile(path = DEBIAN_DEFAULT_PROFILE): SeccompProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(
      `cannot read Docker's default seccomp profile at ${path} (apt-get install golang-github-docker-docker-dev): ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const profile = JSON.parse(text) as SeccompProfile;
  if (profile.defaultAction !== 'SCMP_ACT_ERRNO' || !Array.isArray(profile.syscalls)) {
    throw new Error(`${path} does not look like Docker's default seccomp profile`);
  }
  return profile;
}

/** The default profile with the additions appended; the default itself is left untouched. */
export function buildRunboxProfile(
  defaultProfile: SeccompProfile,
  additions: readonly SeccompAddition[] = SECCOMP_ADDITIONS,
): SeccompProfile {
  const added = additions.map(additionRule);
  const existing = new Set(defaultProfile.syscalls.map((rule) => JSON.stringify(rule)));
  for (const rule of added) {
    if (existing.has(JSON.stringify(rule)))
      throw new Error(`addition ${rule.comment} is already in the default profile`);
  }
  const copy = structuredClone(defaultProfile);
  return { ...copy, syscalls: [...copy.syscalls, ...added] };
}

/** The profile as committed: JSON in the repository's prettier style. */
export async function renderProfile(profile: SeccompProfile): Promise<string> {
  const options = (await resolveConfig(RUNBOX_PROFILE)) ?? {};
  return format(JSON.stringify(profile), { ...options, parser: 'json' });
}

async function main(argv: readonly string[]): Promise<number> {
  const defaultIndex = argv.indexOf('--default');
  const defaultPath = defaultIndex >= 0 ? argv[defaultIndex + 1] : DEBIAN_DEFAULT_PROFILE;
  if (!defaultPath) throw new Error('--default needs a path');
  const text = await renderProfile(buildRunboxProfile(readDefaultProfile(defaultPath)));
  if (argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(RUNBOX_PROFILE, 'utf8');
    } catch {
      // missing: reported below
    }
    if (current !== text) {
      console.error(`${RUNBOX_PROFILE} is out of date: run node docker/seccomp/generate.ts`);
      return 1;
    }
    return 0;
  }
  writeFileSync(RUNBOX_PROFILE, text);
  console.log(`wrote ${RUNBOX_PROFILE}: ${SECCOMP_ADDITIONS.length} additions to ${defaultPath}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exit(1);
    },
  );
}
