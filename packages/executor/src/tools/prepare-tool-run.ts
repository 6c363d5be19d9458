import { copyProject, scanProject, type SkippedProjectEntry } from './copy-project.ts';
import { chooseEntry, expandToolArgv } from './tool-argv.ts';
import { ToolNotApplicableError, toolAppliesTo } from './tool-applies.ts';
import type { Tool } from './tool-schema.ts';
import { toolEnv } from './tool-env.ts';

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

/**
 * What prepareToolRun would refuse, found without copying: the project scanned against the
 * workspace size, and the argv expanded for its files.
 */
export async function checkToolRun(options: {
  tool: Tool;
  projectDir: string;
  workspaceBytes: number;
  entry?: string | undefined;
}): Promise<void> {
  const scan = await scanProject(options.projectDir, { maxBytes: options.workspaceBytes });
  const files = scan.files.map((file) => file.path);
  if (options.entry === undefined && !toolAppliesTo(options.tool, files))
    throw new ToolNotApplicableError(options.tool.id, options.tool.appliesTo.anyOf);
  expandToolArgv(options.tool.argv, {
    files,
    entry: chooseEntry(options.tool.entry, files, options.entry),
  });
}
