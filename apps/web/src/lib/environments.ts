import type { AppRouter } from '@runbox/api';
import type { inferRouterOutputs } from '@trpc/server';

/**
 * The dependency environments a new run may pick (`runs.create`'s `environment`), in the words
 * the form shows: what each installs, and why one cannot work on this server. The server checks
 * again at create and refuses with its own message (ENVIRONMENT_REFUSED); these mirror its rules
 * (packages/executor/src/environments/environment-plan.ts) so that the form says so first.
 */

type Outputs = inferRouterOutputs<AppRouter>;
export type EnvironmentList = Outputs['environments']['list'];
export type NamedEnvironmentView = EnvironmentList['named'][number];

/** The name that installs a project's own manifests. */
export const PROJECT_ENVIRONMENT = 'project';
/** The form's value for no environment (nothing is sent). */
export const NO_ENVIRONMENT = '';

export const PROJECT_LABEL = "Project's own (requirements.txt / pyproject.toml / package.json)";

/** What the run works on: a project's own manifests are only offered for an uploaded project. */
export type EnvironmentTarget =
  | { kind: 'snippet' }
  | { kind: 'example' }
  /** `files`: the uploaded project's paths, null before one is uploaded. */
  | { kind: 'upload'; files: readonly string[] | null };

export interface EnvironmentChoice {
  /** What `environment` gets; NO_ENVIRONMENT sends none. */
  value: string;
  label: string;
  /** What it is or does, in a sentence; null when the label says it all. */
  detail: string | null;
  /** Its packages, briefly; null when it names none. */
  packages: string | null;
  /** Why it cannot work here (it is shown disabled), or null when it can. */
  unavailable: string | null;
}

/** Which registries an install needs. */
interface Needs {
  python: boolean;
  node: boolean;
}

const PYTHON_NEEDS = 'Python packages need a package index: the operator sets RUNBOX_PIP_INDEX_URL';
const NODE_NEEDS = 'Node packages need a registry: the operator sets RUNBOX_NPM_REGISTRY';

/**
 * Why an install that needs these registries cannot run here, naming the variable an operator
 * sets for each registry missing; null when every one it needs is allowed.
 */
export function registryRefusal(needs: Needs, allowed: EnvironmentList['project']): string | null {
  const missing = [
    ...(needs.python && !allowed.python ? [PYTHON_NEEDS] : []),
    ...(needs.node && !allowed.node ? [NODE_NEEDS] : []),
  ];
  if (missing.length === 0) return null;
  return `Cannot be installed here: no package registry is allowed on this server. ${missing.join('; ')}.`;
}

/** The manifests a project's root has, as the server reads them (requirements.txt before pyproject.toml). */
export interface ProjectManifests {
  python: 'requirements.txt' | 'pyproject.toml' | null;
  node: { lockfile: boolean } | null;
}

export function projectManifests(files: readonly string[]): ProjectManifests {
  const root = new Set(files.filter((path) => !path.includes('/')));
  return {
    python: root.has('requirements.txt')
      ? 'requirements.txt'
      : root.has('pyproject.toml')
        ? 'pyproject.toml'
        : null,
    node: root.has('package.json') ? { lockfile: root.has('package-lock.json') } : null,
  };
}

/** What installing a project's own manifests does, or why it cannot (unavailable). */
export function projectChoice(
  allowed: EnvironmentList['project'],
  files: readonly string[] | null,
): EnvironmentChoice {
  const base = { value: PROJECT_ENVIRONMENT, label: PROJECT_LABEL, packages: null };
  if (files === null) {
    // Before an upload, only what no project could get is known.
    return {
      ...base,
      detail: 'Installs what the uploaded project’s root lists: sandboxed, cached by content.',
      unavailable:
        allowed.python || allowed.node
          ? null
          : registryRefusal({ python: true, node: true }, allowed),
    };
  }
  const manifests = projectManifests(files);
  if (!manifests.python && !manifests.node)
    return {
      ...base,
      detail: null,
      unavailable:
        'This project has no requirements.txt, pyproject.toml or package.json at its root.',
    };
  const steps = [
    ...(manifests.python ? [`pip installs ${manifests.python}`] : []),
    ...(manifests.node
      ? [manifests.node.lockfile ? 'npm ci (package-lock.json)' : 'npm install (package.json)']
      : []),
  ];
  return {
    ...base,
    detail: `${steps.join('; ')}: sandboxed, cached by content.`,
    unavailable: registryRefusal(
      { python: manifests.python !== null, node: manifests.node !== null },
      allowed,
    ),
  };
}

/** "Python: numpy, pandas · Node: left-pad 1.3.0", the first `max` packages and how many more. */
export function packagesSummary(environment: NamedEnvironmentView, max = 6): string | null {
  const all = [
    ...environment.python.map((spec) => ({ group: 'Python', text: spec })),
    ...Object.entries(environment.node).map(([name, range]) => ({
      group: 'Node',
      text: `${name} ${range}`,
    })),
  ];
  if (all.length === 0) return null;
  const shown = all.slice(0, max);
  const groups: string[] = [];
  for (const group of ['Python', 'Node']) {
    const texts = shown.filter((item) => item.group === group).map((item) => item.text);
    if (texts.length > 0) groups.push(`${group}: ${texts.join(', ')}`);
  }
  const more = all.length - shown.length;
  return `${groups.join(' · ')}${more > 0 ? ` and ${more} more` : ''}`;
}

export function namedChoice(
  environment: NamedEnvironmentView,
  allowed: EnvironmentList['project'],
): EnvironmentChoice {
  return {
    value: environment.name,
    label: environment.name,
    detail: environment.description,
    packages: packagesSummary(environment),
    unavailable: registryRefusal(
      { python: environment.python.length > 0, node: Object.keys(environment.node).length > 0 },
      allowed,
    ),
  };
}

const NONE_CHOICE: EnvironmentChoice = {
  value: NO_ENVIRONMENT,
  label: 'None',
  detail: 'Only what the sandbox has.',
  packages: null,
  unavailable: null,
};

/**
 * The choices for a run: none, a project's own manifests (an uploaded project's tool run only:
 * a snippet has none, and an example's are the server's to declare), then the named ones.
 */
export function environmentChoices(
  list: EnvironmentList | undefined,
  target: EnvironmentTarget,
): EnvironmentChoice[] {
  if (!list) return [NONE_CHOICE];
  return [
    NONE_CHOICE,
    ...(target.kind === 'upload' ? [projectChoice(list.project, target.files)] : []),
    ...list.named.map((environment) => namedChoice(environment, list.project)),
  ];
}

/**
 * The environment picked, when it is among the choices and can work here; otherwise none (a
 * choice of another source, "project" picked before switching to a snippet, is not sent).
 */
export function pickedEnvironment(picked: string, choices: readonly EnvironmentChoice[]): string {
  const choice = choices.find((candidate) => candidate.value === picked);
  return choice && choice.unavailable === null ? choice.value : NO_ENVIRONMENT;
}

/** `runs.create`'s `environment`, only when one is picked. */
export function environmentInput(picked: string): { environment?: string } {
  return picked === NO_ENVIRONMENT ? {} : { environment: picked };
}
