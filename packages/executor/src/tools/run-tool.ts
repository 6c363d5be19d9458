import type { Readable } from 'node:stream';
import type { EndState } from '../run-state.ts';
import { prepareToolRun } from './prepare-tool-run.ts';
import { endStateOf } from '../sandbox/end-state.ts';
import { resolveLimits, type LimitsOverride, type SandboxLimits } from '../sandbox/limits.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { SandboxRunOptions, SandboxRunReport } from '../sandbox/sandbox-run.ts';
import type { Workspace } from '../sandbox/workspace-pool.ts';
import type { SkippedProjectEntry } from './copy-project.ts';
import { expandFixedPlaceholders } from './tool-argv.ts';
import type { Tool } from './tool-schema.ts';

export interface ToolRunOptions {
  runId: string;
  tool: Tool;
  /** Host directory of the project; read (never through a link), never written. */
  projectDir: string;
  limits: SandboxLimits;
  /** The entry file for a tool whose argv uses `{entry}`; default the tool's first candidate found. */
  entry?: string | undefined;
  stdin?: string | Buffer | Readable | undefined;
  /** As for SandboxRunOptions: raw output bytes as they arrive, up to the output limit. */
  onOutput?: SandboxRunOptions['onOutput'];
  onUsage?: SandboxRunOptions['onUsage'];
  signal?: AbortSignal | undefined;
  /** Runs before the workspace is emptied, e.g. to list or read what the run wrote. */
  inspectWorkspace?: ((workspaceDir: string) => Promise<void>) | undefined;
}

export interface ToolRunReport extends SandboxRunReport {
  state: EndState;
  workspaceDir: string;
  /** The argv that ran inside the sandbox, placeholders filled in. */
  argv: string[];
  /** Links and special files of the project that were not copied. */
  skipped: SkippedProjectEntry[];
}

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

/**
 * The whole sandbox cycle for a tool on a project: the project checked against the workspace size
 * and the argv expanded (both before anything is taken or started), a fresh workspace, the project
 * copied into it, the run, and the workspace emptied again.
 */
export async function runTool(host: SandboxHost, options: ToolRunOptions): Promise<ToolRunReport> {
  const { tool, limits } = options;
  const workspace: Workspace = await host.workspaces.acquire(limits.workspaceBytes);
  try {
    const prepared = await prepareToolRun({
      tool,
      projectDir: options.projectDir,
      workspaceDir: workspace.dir,
      workspaceBytes: limits.workspaceBytes,
      entry: options.entry,
      owner: host.runAs,
    });
    const report = await host.run({
      runId: options.runId,
      argv: prepared.argv,
      limits,
      workspaceDir: workspace.dir,
      env: prepared.env,
      stdin: options.stdin,
      onOutput: options.onOutput,
      onUsage: options.onUsage,
      signal: options.signal,
    });
    await options.inspectWorkspace?.(workspace.dir);
    return {
      ...report,
      state: endStateOf(report),
      workspaceDir: workspace.dir,
      argv: prepared.argv,
      skipped: prepared.skipped,
    };
  } finally {
    await workspace.release();
  }
}
