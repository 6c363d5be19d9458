import { z } from 'zod';
import { ConfigError } from './config-error.ts';
import { allowedOriginOf, parseEgressHosts } from './environments/egress-allowlist.ts';
import {
  DEFAULT_ENVIRONMENTS_MAX_BYTES,
  DEFAULT_INSTALL_WALL_TIME_MS,
  namedEnvironmentsSchema,
  type EnvironmentSettings,
} from './environments/environment-settings.ts';
import type { WarmSandboxesSettings } from './run-path/warm-sandboxes.ts';
import { DEFAULT_WARM_SIZES, parseWarmSizes } from './run-path/warm-sizes.ts';
import type { SandboxHostConfig } from './sandbox/sandbox-host.ts';

/** The executor's environment variables, read and validated here and nowhere else. */
const hostEnvSchema = z.object({
  RUNBOX_SANDBOX_DIR: z.string().min(1).optional(),
  RUNBOX_CGROUP: z.enum(['auto', 'v1', 'v2']).default('auto'),
  RUNBOX_CGROUP_V2_BASE: z.string().startsWith('/').optional(),
  RUNBOX_SANDBOX_UID: z.coerce.number().int().min(1).max(4_294_967_294).default(64000),
  RUNBOX_CHECKER_UID: z.coerce.number().int().min(1).max(4_294_967_294).default(63999),
  RUNBOX_WORKSPACE_TMPFS: z.enum(['0', '1']).default('1'),
  RUNBOX_ALLOW_UNSAFE_SANDBOX: z.enum(['0', '1']).default('0'),
  RUNBOX_SANDBOX_TOOLS_DIR: z.string().startsWith('/').optional(),
  RUNBOX_WARM_SANDBOXES: z.string().default(DEFAULT_WARM_SIZES),
  RUNBOX_WARM_MAX_AGE_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(300_000),
  RUNBOX_PIP_INDEX_URL: z.string().min(1).optional(),
  RUNBOX_NPM_REGISTRY: z.string().min(1).optional(),
  RUNBOX_EGRESS_HOSTS: z.string().default(''),
  RUNBOX_ENVIRONMENTS: z.string().default('{}'),
  RUNBOX_INSTALL_WALL_TIME_MS: z.coerce
    .number()
    .int()
    .min(10_000)
    .max(3_600_000)
    .default(DEFAULT_INSTALL_WALL_TIME_MS),
  RUNBOX_ENVIRONMENTS_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 ** 3)
    .max(1024 ** 4)
    .default(DEFAULT_ENVIRONMENTS_MAX_BYTES),
});

export interface HostEnv {
  host: SandboxHostConfig;
  /** Run untrusted code even when the self-test finds a broken layer. Loud in every log. */
  allowUnsafeSandbox: boolean;
  /** Sandboxes started ahead of demand, per language (warm-sandboxes.ts). */
  warm: WarmSandboxesSettings;
  /** Dependency installs: registries, named environments (environments/). */
  environments: EnvironmentSettings;
}

/** Each URL and host list checked now, so that a bad one stops the start, naming its variable. */
function environmentSettingsFrom(value: z.infer<typeof hostEnvSchema>): EnvironmentSettings {
  const checked = (name: string, check: () => unknown): void => {
    try {
      check();
    } catch (error) {
      throw new ConfigError(name, (error as Error).message);
    }
  };
  if (value.RUNBOX_PIP_INDEX_URL)
    checked('RUNBOX_PIP_INDEX_URL', () => allowedOriginOf(value.RUNBOX_PIP_INDEX_URL ?? ''));
  if (value.RUNBOX_NPM_REGISTRY)
    checked('RUNBOX_NPM_REGISTRY', () => allowedOriginOf(value.RUNBOX_NPM_REGISTRY ?? ''));
  checked('RUNBOX_EGRESS_HOSTS', () => parseEgressHosts(value.RUNBOX_EGRESS_HOSTS));
  let named: unknown;
  checked('RUNBOX_ENVIRONMENTS', () => (named = JSON.parse(value.RUNBOX_ENVIRONMENTS)));
  const parsed = namedEnvironmentsSchema.safeParse(named);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      'RUNBOX_ENVIRONMENTS',
      `${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return {
    pipIndexUrl: value.RUNBOX_PIP_INDEX_URL ?? null,
    npmRegistry: value.RUNBOX_NPM_REGISTRY ?? null,
    egressHosts: value.RUNBOX_EGRESS_HOSTS,
    named: parsed.data,
    installWallTimeMs: value.RUNBOX_INSTALL_WALL_TIME_MS,
    maxBytes: value.RUNBOX_ENVIRONMENTS_MAX_BYTES,
  };
}

export function hostEnvFrom(env: NodeJS.ProcessEnv): HostEnv {
  const parsed = hostEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? '?'), issue?.message ?? 'invalid');
  }
  const value = parsed.data;
  let sizes: WarmSandboxesSettings['sizes'];
  try {
    sizes = parseWarmSizes(value.RUNBOX_WARM_SANDBOXES);
  } catch (error) {
    throw new ConfigError('RUNBOX_WARM_SANDBOXES', (error as Error).message);
  }
  return {
    host: {
      stateDir: value.RUNBOX_SANDBOX_DIR,
      cgroup: value.RUNBOX_CGROUP,
      cgroupV2Base: value.RUNBOX_CGROUP_V2_BASE,
      sandboxUid: value.RUNBOX_SANDBOX_UID,
      checkerUid: value.RUNBOX_CHECKER_UID,
      workspaceTmpfs: value.RUNBOX_WORKSPACE_TMPFS === '1',
      sandboxToolsDir: value.RUNBOX_SANDBOX_TOOLS_DIR,
    },
    allowUnsafeSandbox: value.RUNBOX_ALLOW_UNSAFE_SANDBOX === '1',
    warm: { sizes, maxAgeMs: value.RUNBOX_WARM_MAX_AGE_MS },
    environments: environmentSettingsFrom(value),
  };
}
