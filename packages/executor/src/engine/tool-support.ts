import type { LimitsOverride } from '../sandbox/limits.ts';

/** What the engine needs to run a tool on a project; the tool catalog provides it. */
export interface ToolSupport {
  /** The tool's default limits; throws UnknownToolError for an unknown or unavailable tool. */
  limits(toolId: string): LimitsOverride;
  /**
   * Refuses, before the run is queued, what would keep it from running: a project that does not
   * fit its workspace (ProjectTooLargeError), an entry file it lacks or an argv that cannot be
   * filled from its files (ToolArgvError). Copies nothing.
   */
  check(input: {
    toolId: string;
    projectDir: string;
    workspaceBytes: number;
    entry?: string | undefined;
  }): Promise<void>;
  /** Copies the project into the run's empty workspace (no link followed) and returns the argv. */
  prepare(input: {
    toolId: string;
    projectDir: string;
    workspaceDir: string;
    workspaceBytes: number;
    entry?: string | undefined;
    owner: { uid: number; gid: number } | null;
  }): Promise<{ argv: string[]; env: Record<string, string> }>;
}
