import type { RunWarning } from '../engine/run-events.ts';
import { placeProject } from '../project/place-project.ts';
import type { ProjectLayer } from '../project/project-layer.ts';
import { fitWorkspace, listProject } from '../project/project-listings.ts';
import type { ProjectScan, SkippedProjectEntry } from './copy-project.ts';
import type { ProjectListing } from './tool-arguments.ts';
import { toolCommand } from './tool-command.ts';
import type { Tool } from './tool-schema.ts';

export interface PreparedToolRun {
  argv: string[];
  env: Record<string, string>;
  /** Links that leave the project and special files: not copied, not seen by the run. */
  skipped: SkippedProjectEntry[];
  /** The project is seen through this layer (nothing copied); null when it was copied. */
  layer: ProjectLayer | null;
  /** What the run is told (variables set from the project's layout). */
  notices: RunWarning[];
}

/** The run's own additions: arguments (checked against the tool's declaration) and variables. */
export interface ToolRunAdditions {
  args?: readonly string[] | undefined;
  /** Names already checked (snippet-fields.ts envNameRefusal). */
  env?: Readonly<Record<string, string>> | undefined;
}

/**
 * A project as its arguments are checked: what the walk saw, no link followed. A path through a
 * link the project keeps (one whose target stays inside) is the sandbox's to resolve.
 */
function listingOf(scan: ProjectScan): ProjectListing {
  return {
    files: scan.files.map((file) => file.path),
    directories: scan.directories,
    links: scan.links.map((link) => link.path),
  };
}

/**
 * Puts the project where the run sees it (project/place-project.ts: through a layer, or copied
 * into the empty workspace; no link followed) and expands the tool's argv for the files it has.
 * Throws ProjectTooLargeError or ToolArgvError before the program starts.
 */
export async function prepareToolRun(
  options: ToolRunAdditions & {
    tool: Tool;
    projectDir: string;
    workspaceDir: string;
    workspaceBytes: number;
    entry?: string | undefined;
    owner: { uid: number; gid: number } | null;
    /** The host can layer projects (SandboxHost.projectLayers). @default false: copied */
    layers?: boolean | undefined;
  },
): Promise<PreparedToolRun> {
  const placed = await placeProject({ ...options, layers: options.layers ?? false });
  const command = await toolCommand({ ...options, listing: listingOf(placed.scan) });
  return {
    argv: command.argv,
    env: command.env,
    skipped: placed.scan.skipped,
    layer: placed.layer,
    notices: command.notices,
  };
}

/**
 * What prepareToolRun would refuse, found without copying: the project scanned against the
 * workspace size, the run's arguments against the tool's declaration and the project, the files
 * the tool applies to, and the argv expanded for them. Returns what the run is to be told.
 */
export async function checkToolRun(
  options: ToolRunAdditions & {
    tool: Tool;
    projectDir: string;
    workspaceBytes: number;
    entry?: string | undefined;
  },
): Promise<RunWarning[]> {
  // The process's listing: a later check or run of the same project walks nothing again.
  const scan = fitWorkspace(await listProject(options.projectDir), options.workspaceBytes);
  return (await toolCommand({ ...options, listing: listingOf(scan) })).notices;
}
