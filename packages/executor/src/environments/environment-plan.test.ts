import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  environmentKey,
  namedPlan,
  planRefusal,
  projectPlan,
  type InstallPlan,
} from './environment-plan.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbox-env-plan-'));
  await writeFile(join(dir, 'requirements.txt'), 'requests==2.32.3\n');
  await writeFile(join(dir, 'pyproject.toml'), '[project]\nname = "x"\n');
  await writeFile(join(dir, 'package.json'), '{"dependencies":{"left-pad":"1.3.0"}}');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const settings = { pipIndexUrl: 'https://pypi.org/simple', npmRegistry: null };
const runtimes = { python: 'Python 3.11.2', node: 'v24.21.0' };

describe('projectPlan', () => {
  it('takes requirements.txt before pyproject.toml, and package.json without a lockfile', async () => {
    const plan = await projectPlan(dir, ['requirements.txt', 'pyproject.toml', 'package.json']);
    expect(plan.files.map((file) => file.name)).toEqual(['requirements.txt', 'package.json']);
    expect(plan.python).toEqual({
      requirements: 'manifest/requirements.txt',
      pyproject: null,
      packages: [],
    });
    expect(plan.node).toEqual({
      packageJson: 'manifest/package.json',
      lockfile: null,
      packages: {},
    });
  });

  it('refuses a project with no manifest, and never reads a manifest that is a link', async () => {
    await expect(projectPlan(dir, ['main.py'])).rejects.toThrow(/has none at its root/);
    const linked = await mkdtemp(join(tmpdir(), 'runbox-env-plan-link-'));
    try {
      await symlink('/etc/passwd', join(linked, 'requirements.txt'));
      // A link is not in a listing's files; named anyway, the read refuses it.
      await expect(projectPlan(linked, ['requirements.txt'])).rejects.toThrow(/symbolic link/);
    } finally {
      await rm(linked, { recursive: true, force: true });
    }
  });
});

describe('environmentKey', () => {
  it('changes with the manifests, the registry and the interpreter, and only with them', async () => {
    const plan = await projectPlan(dir, ['requirements.txt']);
    const key = environmentKey(plan, settings, runtimes);
    expect(environmentKey(plan, settings, runtimes)).toBe(key);
    // The npm registry plays no part in a Python-only plan.
    expect(environmentKey(plan, { ...settings, npmRegistry: 'https://r.example/' }, runtimes)).toBe(
      key,
    );
    const edited: InstallPlan = {
      ...plan,
      files: [{ name: 'requirements.txt', content: Buffer.from('requests==2.32.4\n') }],
    };
    expect(environmentKey(edited, settings, runtimes)).not.toBe(key);
    expect(
      environmentKey(plan, { ...settings, pipIndexUrl: 'https://mirror/simple' }, runtimes),
    ).not.toBe(key);
    expect(environmentKey(plan, settings, { ...runtimes, python: 'Python 3.12.1' })).not.toBe(key);
  });
});

describe('planRefusal', () => {
  it('says which variable allows what the plan needs', () => {
    const plan = namedPlan('web', { node: { express: '^4' } });
    expect(planRefusal(plan, settings)).toMatch(
      /no package registry is allowed.*RUNBOX_NPM_REGISTRY/,
    );
    expect(
      planRefusal(plan, { ...settings, npmRegistry: 'https://registry.npmjs.org/' }),
    ).toBeNull();
  });
});
