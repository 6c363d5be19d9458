import { z } from 'zod';
import { ConfigError } from './config-error.ts';
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
});

export interface HostEnv {
  host: SandboxHostConfig;
  /** Run untrusted code even when the self-test finds a broken layer. Loud in every log. */
  allowUnsafeSandbox: boolean;
  /** Sandboxes started ahead of demand, per language (warm-sandboxes.ts). */
  warm: WarmSandboxesSettings;
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
  };
}
