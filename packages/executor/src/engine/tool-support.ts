import type { LimitsOverride } from '../sandbox/limits.ts';

/** What the engine needs to run a tool on a project; the tool registry provides it. */
export interface ToolSupport {
  /** The tool's argv and environment inside the sandbox, and its default limits; throws UnknownToolError. */
  resolve(toolId: string): { argv: string[]; env: Record<string, string>; limits?: LimitsOverride };
  /** Copies the project into the run's workspace without following links. */
  copyProject(options: {
    projectDir: string;
    workspaceDir: string;
    maxBytes: number;
  }): Promise<void>;
}
