import { z } from 'zod';

/** A named environment's name, as runs pick it; `project` means the project's own manifests. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;
export const PROJECT_ENVIRONMENT = 'project';

/** Python requirement specifiers and npm `name@range` specs, as pip and npm take them. */
const pythonRequirement = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._\-[\],<>=!~ ;:'"()*+]*$/, 'not a plain requirement specifier');
const npmSpec = z
  .string()
  .min(1)
  .max(214)
  .regex(/^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/, 'not an npm package name');

/** An operator's named environment: packages for Python (pip) and for Node (npm). */
export const namedEnvironmentSchema = z
  .object({
    description: z.string().max(200).optional(),
    python: z.array(pythonRequirement).max(100).optional(),
    /** npm package name to version range, as in package.json's dependencies. */
    node: z.record(npmSpec, z.string().min(1).max(100)).optional(),
  })
  .strict()
  .refine((value) => (value.python?.length ?? 0) + Object.keys(value.node ?? {}).length > 0, {
    message: 'lists no package',
  });

export type NamedEnvironment = z.infer<typeof namedEnvironmentSchema>;

export const namedEnvironmentsSchema = z.record(
  z
    .string()
    .regex(ENVIRONMENT_NAME_PATTERN, 'a name is a-z, 0-9 and -, starting with a letter')
    .refine((name) => name !== PROJECT_ENVIRONMENT, `"${PROJECT_ENVIRONMENT}" is reserved`),
  namedEnvironmentSchema,
);

/** Where dependency installs may fetch from, and what operators declared. */
export interface EnvironmentSettings {
  /** pip's index (`RUNBOX_PIP_INDEX_URL`); null: Python installs are refused. */
  pipIndexUrl: string | null;
  /** npm's registry (`RUNBOX_NPM_REGISTRY`); null: Node installs are refused. */
  npmRegistry: string | null;
  /** More hosts an install may reach (`RUNBOX_EGRESS_HOSTS`: a registry's file host). */
  egressHosts: string;
  /** `RUNBOX_ENVIRONMENTS`: named environments runs may pick. */
  named: Readonly<Record<string, NamedEnvironment>>;
  /** An install's wall time at most (`RUNBOX_INSTALL_WALL_TIME_MS`). */
  installWallTimeMs: number;
  /**
   * What the store may hold (`RUNBOX_ENVIRONMENTS_MAX_BYTES`): past it, the least recently used
   * environments not in use are removed after each install.
   */
  maxBytes: number;
}

export const DEFAULT_INSTALL_WALL_TIME_MS = 600_000;
export const DEFAULT_ENVIRONMENTS_MAX_BYTES = 10 * 1024 ** 3;

export const NO_ENVIRONMENTS: EnvironmentSettings = {
  pipIndexUrl: null,
  npmRegistry: null,
  egressHosts: '',
  named: {},
  installWallTimeMs: DEFAULT_INSTALL_WALL_TIME_MS,
  maxBytes: DEFAULT_ENVIRONMENTS_MAX_BYTES,
};
