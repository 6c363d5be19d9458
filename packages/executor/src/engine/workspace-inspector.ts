import { storeArtifacts } from '../artifacts/artifact-store.ts';
import type { Artifact, SkippedArtifact } from '../artifacts/collect-artifacts.ts';
import { snapshotWorkspace, type WorkspaceSnapshot } from '../artifacts/workspace-snapshot.ts';
import { LANGUAGE_RUNTIMES } from '../languages/index.ts';
import { readResult } from '../result/read-result.ts';
import type { RunWarning } from './run-events.ts';
import type { RunRequest } from './run-request.ts';

export interface InspectedWorkspace {
  warnings: RunWarning[];
  artifacts: Artifact[];
  skippedArtifacts: SkippedArtifact[];
  /** Present when the run handed back a value through the result channel. */
  value?: unknown;
}

/** What happens to a workspace between the end of the program and its removal. */
export interface WorkspaceInspector {
  /** The workspace before the program starts, to tell what it created or changed. */
  snapshot(workspaceDir: string): Promise<WorkspaceSnapshot>;
  inspect(input: {
    runId: string;
    workspaceDir: string;
    before: WorkspaceSnapshot;
    request: RunRequest;
  }): Promise<InspectedWorkspace>;
}

/**
 * Keeps the files a run created or changed under `artifactsRoot/<runId>` (links listed, never
 * followed or copied) and reads the result channel. The snippet's own code file is no artifact.
 */
export function createWorkspaceInspector(options: {
  artifactsRoot: string | null;
}): WorkspaceInspector {
  return {
    snapshot: (workspaceDir) => snapshotWorkspace(workspaceDir),
    async inspect({ runId, workspaceDir, before, request }) {
      const warnings: RunWarning[] = [];
      let artifacts: Artifact[] = [];
      let skippedArtifacts: SkippedArtifact[] = [];
      if (options.artifactsRoot) {
        const exclude =
          request.kind === 'snippet' ? [LANGUAGE_RUNTIMES[request.language].fileName] : [];
        const collection = await storeArtifacts({
          root: options.artifactsRoot,
          runId,
          workspaceDir,
          before,
          exclude,
        });
        artifacts = collection.artifacts;
        skippedArtifacts = collection.skipped;
        for (const skipped of collection.skipped) {
          warnings.push({
            check: 'artifact',
            rule: skipped.reason,
            message: `${skipped.path} was not kept: ${skipped.reason.replaceAll('_', ' ')}`,
          });
        }
        if (collection.truncated)
          warnings.push({
            check: 'artifact',
            rule: 'truncated',
            message: 'more files than kept; the list is cut',
          });
      }
      const outcome = await readResult(workspaceDir);
      if (outcome && 'warning' in outcome) {
        warnings.push({ check: 'result', rule: outcome.reason, message: outcome.warning });
      }
      return {
        warnings,
        artifacts,
        skippedArtifacts,
        ...(outcome && 'value' in outcome ? { value: outcome.value } : {}),
      };
    },
  };
}
