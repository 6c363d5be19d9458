import { copyProject, type ProjectScan } from '../tools/copy-project.ts';
import type { ProjectLayer } from './project-layer.ts';
import { fitWorkspace, listProject } from './project-listings.ts';

/** A project made ready for one run: what it holds, and whether it is layered or was copied. */
export interface PlacedProject {
  scan: ProjectScan;
  /** Set when the project is seen through a layer (project-layer.ts); null when it was copied. */
  layer: ProjectLayer | null;
}

/**
 * Puts a tool run's project where the run sees it. Layered when the host can (`layers`), the
 * sandbox user owns every entry of the project and it holds nothing a copy would skip: nothing is
 * copied or walked (the listing is the process's, project-listings.ts). Otherwise copied into
 * the empty workspace (copy-project.ts).
 * Either way the project must fit the workspace, as the check at create said.
 */
export async function placeProject(options: {
  projectDir: string;
  workspaceDir: string;
  workspaceBytes: number;
  owner: { uid: number; gid: number } | null;
  layers: boolean;
}): Promise<PlacedProject> {
  const { owner } = options;
  if (options.layers && owner) {
    const scan = await listProject(options.projectDir);
    // Only a project that holds nothing a copy would leave out (a link leaving it, a FIFO, a
    // device): a layer shows the project as it is.
    const owned = scan.owner?.uid === owner.uid && scan.owner.gid === owner.gid;
    if (owned && scan.skipped.length === 0) {
      fitWorkspace(scan, options.workspaceBytes);
      return {
        scan,
        layer: {
          projectDir: options.projectDir,
          contents: { entries: scan.entries, truncated: false },
        },
      };
    }
  }
  const scan = await copyProject({
    root: options.projectDir,
    destDir: options.workspaceDir,
    limits: { maxBytes: options.workspaceBytes },
    owner,
  });
  return { scan, layer: null };
}
