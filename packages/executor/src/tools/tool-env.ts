import { resolveLimits, type LimitsOverride, type SandboxLimits } from '../sandbox/limits.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import { expandFixedPlaceholders } from './tool-argv.ts';
import type { Tool } from './tool-schema.ts';

/** A tool's limits for one run: the request over the tool's defaults over the server's defaults. */
export function resolveToolLimits(
  tool: Pick<Tool, 'limits'>,
  override: LimitsOverride = {},
  options: { defaults?: SandboxLimits; maximums?: SandboxLimits } = {},
): SandboxLimits {
  return resolveLimits({ ...tool.limits, ...override }, options);
}

/** The environment of a tool's run: the sandbox's base, then the tool's own. */
export function toolEnv(tool: Pick<Tool, 'env'>): Record<string, string> {
  const env = baseSandboxEnv();
  for (const [name, value] of Object.entries(tool.env)) env[name] = expandFixedPlaceholders(value);
  return env;
}
