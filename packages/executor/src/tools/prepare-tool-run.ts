import { copyProject, type SkippedProjectEntry } from './copy-project.ts';
import { chooseEntry, expandToolArgv } from './tool-argv.ts';
import type { Tool } from './tool-schema.ts';
import { toolEnv } from './run-tool.ts';

export interface PreparedToolRun {
  argv: string[];
  env: Record<string, string>;
  /** Links and special files of the project that were not copied. */
  skipped: SkippedProjectEntry[];
}

/**
 * Copies the project into an empty workspace (no link followed) and expands the tool's argv for
 * the files it has. Throws ProjectTooLargeError or ToolArgvError before the program starts.
 */
export async function prepareToolRun(options: {
  tool: Tool;
  projectDir: string;
  workspaceDir: string;
  workspaceBytes: number;
  entry?: string | undefined;
  owner: { uid: number; gid: number } | null;
}): Promise<PreparedToolRun> {
  const copied = await copyProject({
    root: options.projectDir,
    destDir: options.workspaceDir,
    limits: { maxBytes: options.workspaceBytes },
    owner: options.owner,
  });
  const files = copied.files.map((file) => file.path);
  const argv = expandToolArgv(options.tool.argv, {
    files,
    entry: chooseEntry(options.tool.entry, files, options.entry),
  });
  return { argv, env: toolEnv(options.tool), skipped: copied.skipped };
}
