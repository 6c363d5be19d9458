import { createHash } from 'node:crypto';
import { readWorkspaceFile } from '../sandbox/safe-fs.ts';
import { EnvironmentRefusedError } from './environment-errors.ts';
import {
  PROJECT_ENVIRONMENT,
  type EnvironmentSettings,
  type NamedEnvironment,
} from './environment-settings.ts';

/** The manifests an install reads from a project's root, in the order they are looked for. */
export const PYTHON_MANIFESTS = ['requirements.txt', 'pyproject.toml'] as const;
export const NODE_MANIFESTS = ['package.json', 'package-lock.json'] as const;
type ManifestName = (typeof PYTHON_MANIFESTS)[number] | (typeof NODE_MANIFESTS)[number];

/** A manifest larger than this is refused (a lockfile of a large app is a few MB). */
export const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

/** Where the installer finds the manifests in its workspace. */
export const MANIFEST_DIR = 'manifest';

export interface ManifestFile {
  name: ManifestName;
  content: Buffer;
}

/** What one install does: the runtime/install-environment.mjs plan, and the files it reads. */
export interface InstallPlan {
  /** `project` or a named environment's name: what messages call it. */
  label: string;
  files: ManifestFile[];
  python: { requirements: string | null; pyproject: string | null; packages: string[] } | null;
  node: {
    packageJson: string | null;
    lockfile: string | null;
    packages: Record<string, string>;
  } | null;
}

/** Bumped when what an install makes changes, so that no older environment is reused. */
const PLAN_FORMAT = 'runbox-environment-1';

/**
 * The cache key: everything that decides what an install makes. The manifests' bytes, the named
 * packages, the registries, and the interpreters that will import the result (a Python or Node
 * upgrade on the host makes new environments).
 */
export function environmentKey(
  plan: InstallPlan,
  settings: Pick<EnvironmentSettings, 'pipIndexUrl' | 'npmRegistry'>,
  runtimes: { python: string; node: string },
): string {
  const hash = createHash('sha256');
  const part = (value: string): void => {
    hash.update(`${Buffer.byteLength(value)}:`);
    hash.update(value);
  };
  part(PLAN_FORMAT);
  part(JSON.stringify({ python: plan.python, node: plan.node }));
  for (const file of [...plan.files].sort((a, b) => a.name.localeCompare(b.name))) {
    part(file.name);
    part(createHash('sha256').update(file.content).digest('hex'));
  }
  part(plan.python ? (settings.pipIndexUrl ?? '') : '');
  part(plan.node ? (settings.npmRegistry ?? '') : '');
  part(plan.python ? runtimes.python : '');
  part(plan.node ? runtimes.node : '');
  return hash.digest('hex').slice(0, 32);
}

/**
 * The install a project's root asks for: requirements.txt (else pyproject.toml) for Python,
 * package.json with package-lock.json (`npm ci`) or without (`npm install`) for Node. `files` is
 * the project's listing (regular files only: a manifest that is a link is not read).
 */
export async function projectPlan(
  projectDir: string,
  files: readonly string[],
): Promise<InstallPlan> {
  const present = new Set(files);
  const read = async (name: ManifestName): Promise<ManifestFile | null> => {
    if (!present.has(name)) return null;
    const content = await readWorkspaceFile(projectDir, name, MAX_MANIFEST_BYTES + 1);
    if (content.length > MAX_MANIFEST_BYTES)
      throw new EnvironmentRefusedError(
        `${name} is larger than ${MAX_MANIFEST_BYTES} bytes, the most a manifest may be`,
      );
    return { name, content };
  };
  const requirements = await read('requirements.txt');
  const pyproject = requirements ? null : await read('pyproject.toml');
  const packageJson = await read('package.json');
  const lockfile = packageJson ? await read('package-lock.json') : null;
  const found = [requirements, pyproject, packageJson, lockfile].filter(
    (file): file is ManifestFile => file !== null,
  );
  if (found.length === 0)
    throw new EnvironmentRefusedError(
      `environment "${PROJECT_ENVIRONMENT}" installs what the project's manifests list, and this project has none at its root (requirements.txt, pyproject.toml, package.json)`,
    );
  const at = (file: ManifestFile | null): string | null =>
    file ? `${MANIFEST_DIR}/${file.name}` : null;
  return {
    label: PROJECT_ENVIRONMENT,
    files: found,
    python:
      requirements || pyproject
        ? { requirements: at(requirements), pyproject: at(pyproject), packages: [] }
        : null,
    node: packageJson
      ? { packageJson: at(packageJson), lockfile: at(lockfile), packages: {} }
      : null,
  };
}

/** The install of an operator's named environment. */
export function namedPlan(name: string, environment: NamedEnvironment): InstallPlan {
  const python = environment.python ?? [];
  const node = environment.node ?? {};
  return {
    label: name,
    files: [],
    python: python.length > 0 ? { requirements: null, pyproject: null, packages: python } : null,
    node:
      Object.keys(node).length > 0 ? { packageJson: null, lockfile: null, packages: node } : null,
  };
}

/** Why this host cannot install the plan (no registry allowed for it); null when it can. */
export function planRefusal(
  plan: InstallPlan,
  settings: Pick<EnvironmentSettings, 'pipIndexUrl' | 'npmRegistry'>,
): string | null {
  const missing: string[] = [];
  if (plan.python && !settings.pipIndexUrl)
    missing.push(
      'Python packages need a package index: the operator sets RUNBOX_PIP_INDEX_URL (e.g. https://pypi.org/simple, with RUNBOX_EGRESS_HOSTS=files.pythonhosted.org)',
    );
  if (plan.node && !settings.npmRegistry)
    missing.push(
      'Node packages need a registry: the operator sets RUNBOX_NPM_REGISTRY (e.g. https://registry.npmjs.org/)',
    );
  if (missing.length === 0) return null;
  return `environment "${plan.label}" cannot be installed: no package registry is allowed on this server. ${missing.join('; ')}`;
}
