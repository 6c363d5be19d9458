import { describe, expect, it } from 'vitest';
import {
  environmentChoices,
  environmentInput,
  NO_ENVIRONMENT,
  packagesSummary,
  pickedEnvironment,
  projectChoice,
  projectManifests,
  registryRefusal,
  type EnvironmentList,
} from './environments';

const NO_REGISTRY = { python: false, node: false };
const BOTH = { python: true, node: true };

const science = {
  name: 'science',
  description: 'numpy and pandas',
  python: ['numpy==2.1.3', 'pandas'],
  node: {},
};
const pad = { name: 'pad', description: null, python: [], node: { 'left-pad': '1.3.0' } };

describe('registryRefusal', () => {
  it('names the variable of each registry an install needs and this server does not allow', () => {
    expect(registryRefusal({ python: true, node: false }, NO_REGISTRY)).toBe(
      'Cannot be installed here: no package registry is allowed on this server. Python packages need a package index: the operator sets RUNBOX_PIP_INDEX_URL.',
    );
    const both = registryRefusal({ python: true, node: true }, NO_REGISTRY);
    expect(both).toContain('RUNBOX_PIP_INDEX_URL');
    expect(both).toContain('RUNBOX_NPM_REGISTRY');
    expect(registryRefusal({ python: true, node: true }, { python: true, node: false })).toBe(
      'Cannot be installed here: no package registry is allowed on this server. Node packages need a registry: the operator sets RUNBOX_NPM_REGISTRY.',
    );
  });

  it('says nothing when every registry needed is allowed', () => {
    expect(registryRefusal({ python: true, node: false }, { python: true, node: false })).toBe(
      null,
    );
    expect(registryRefusal({ python: false, node: false }, NO_REGISTRY)).toBe(null);
  });
});

describe('projectManifests', () => {
  it('reads the root only, requirements.txt before pyproject.toml, as the server does', () => {
    expect(projectManifests(['requirements.txt', 'pyproject.toml', 'main.py'])).toEqual({
      python: 'requirements.txt',
      node: null,
    });
    expect(projectManifests(['pyproject.toml', 'sub/package.json'])).toEqual({
      python: 'pyproject.toml',
      node: null,
    });
    expect(projectManifests(['package.json', 'package-lock.json'])).toEqual({
      python: null,
      node: { lockfile: true },
    });
    expect(projectManifests(['lib/requirements.txt'])).toEqual({ python: null, node: null });
  });
});

describe('projectChoice', () => {
  it('is refused for a project with requirements.txt when no Python index is allowed', () => {
    const choice = projectChoice({ python: false, node: true }, ['requirements.txt', 'main.py']);
    expect(choice.unavailable).toContain('RUNBOX_PIP_INDEX_URL');
    expect(choice.unavailable).not.toContain('RUNBOX_NPM_REGISTRY');
  });

  it('says what it will install when it can', () => {
    expect(projectChoice(BOTH, ['requirements.txt', 'package.json'])).toMatchObject({
      value: 'project',
      detail:
        'pip installs requirements.txt; npm install (package.json): sandboxed, cached by content.',
      unavailable: null,
    });
    expect(projectChoice(BOTH, ['package.json', 'package-lock.json']).detail).toContain('npm ci');
  });

  it('is refused for a project with no manifest at its root', () => {
    expect(projectChoice(BOTH, ['main.py']).unavailable).toBe(
      'This project has no requirements.txt, pyproject.toml or package.json at its root.',
    );
  });

  it('before an upload, is refused only when no registry at all is allowed', () => {
    expect(projectChoice({ python: false, node: true }, null).unavailable).toBe(null);
    const none = projectChoice(NO_REGISTRY, null).unavailable;
    expect(none).toContain('RUNBOX_PIP_INDEX_URL');
    expect(none).toContain('RUNBOX_NPM_REGISTRY');
  });
});

describe('packagesSummary', () => {
  it('lists Python and Node packages by group', () => {
    expect(packagesSummary({ ...science, node: { 'left-pad': '1.3.0' } })).toBe(
      'Python: numpy==2.1.3, pandas · Node: left-pad 1.3.0',
    );
  });

  it('shows the first few and counts the rest', () => {
    const many = { ...science, python: ['a', 'b', 'c', 'd'] };
    expect(packagesSummary(many, 2)).toBe('Python: a, b and 2 more');
  });
});

describe('environmentChoices', () => {
  const list: EnvironmentList = { project: { python: false, node: true }, named: [science, pad] };

  it('offers a project’s own manifests for an uploaded project only', () => {
    const upload = environmentChoices(list, { kind: 'upload', files: ['package.json'] });
    expect(upload.map((choice) => choice.value)).toEqual(['', 'project', 'science', 'pad']);
    expect(environmentChoices(list, { kind: 'snippet' }).map((choice) => choice.value)).toEqual([
      '',
      'science',
      'pad',
    ]);
    expect(environmentChoices(list, { kind: 'example' }).map((c) => c.value)).toEqual([
      '',
      'science',
      'pad',
    ]);
  });

  it('marks a named environment whose registry is not allowed', () => {
    const [, sci, leftPad] = environmentChoices(list, { kind: 'snippet' });
    expect(sci?.unavailable).toContain('RUNBOX_PIP_INDEX_URL');
    expect(sci?.detail).toBe('numpy and pandas');
    expect(leftPad?.unavailable).toBe(null);
  });

  it('is none alone while the list loads', () => {
    expect(environmentChoices(undefined, { kind: 'upload', files: null })).toHaveLength(1);
  });
});

describe('pickedEnvironment and environmentInput', () => {
  const list: EnvironmentList = { project: BOTH, named: [science] };

  it('keeps a choice that is offered and can work', () => {
    const choices = environmentChoices(list, { kind: 'upload', files: ['requirements.txt'] });
    expect(pickedEnvironment('project', choices)).toBe('project');
    expect(environmentInput('project')).toEqual({ environment: 'project' });
  });

  it('drops a choice of another source, or one that cannot work', () => {
    expect(pickedEnvironment('project', environmentChoices(list, { kind: 'snippet' }))).toBe(
      NO_ENVIRONMENT,
    );
    const refused = environmentChoices(
      { project: NO_REGISTRY, named: [science] },
      { kind: 'snippet' },
    );
    expect(pickedEnvironment('science', refused)).toBe(NO_ENVIRONMENT);
    expect(environmentInput(NO_ENVIRONMENT)).toEqual({});
  });
});
