import type { ProjectLayer } from '../project/project-layer.ts';
import type { LimitsOverride } from '../sandbox/limits.ts';
import type { RunWarning } from './run-events.ts';

/** What the engine needs to run a tool on a project; the tool catalog provides it. */
export interface ToolSupport {
  /** The tool's default limits; throws UnknownToolError for an unknown or unavailable tool. */
  limits(toolId: string): LimitsOverride;
  /**
   * Refuses, before the run is queued, what would keep it from running: a project that does not
   * fit its workspace (ProjectTooLargeError), an entry file it lacks, arguments the tool does not
   * take or an argv that cannot be filled from its files (ToolArgvError), a project with no file
   * the tool applies to (ToolNotApplicableError). Copies nothing. Returns what the run is to be
   * told (variables set from the project's layout).
   */
  check(input: {
    toolId: string;
    projectDir: string;
    workspaceBytes: number;
    entry?: string | undefined;
    args?: readonly string[] | undefined;
    env?: Readonly<Record<string, string>> | undefined;
  }): Promise<RunWarning[]>;
  /**
   * Puts the project where the run sees it: through a layer when `layers` allows (nothing copied;
   * `layer` says which), else copied into the run's empty workspace (no link followed). Returns
   * the argv (the run's `args` in it) and the environment (the run's `env` in it).
   */
  prepare(input: {
    toolId: string;
    projectDir: string;
    workspaceDir: string;
    workspaceBytes: number;
    entry?: string | undefined;
    args?: readonly string[] | undefined;
    env?: Readonly<Record<string, string>> | undefined;
    owner: { uid: number; gid: number } | null;
    /** The host can show a project through a layer instead of a copy (project-layer.ts). */
    layers?: boolean | undefined;
  }): Promise<{ argv: string[]; env: Record<string, string>; layer?: ProjectLayer | undefined }>;
}
