import type { SQLInputValue } from 'node:sqlite';
import type { Artifact } from '@runbox/executor';
import { readRow, type ReportCorruption, type Row } from './row-reader.ts';

export type StoredArtifact = Artifact;

export const UPSERT_ARTIFACT_SQL = `
INSERT INTO artifacts (run_id, path, kind, size, sha256, media_type, link_target)
VALUES (:run_id, :path, :kind, :size, :sha256, :media_type, :link_target)
ON CONFLICT (run_id, path) DO UPDATE SET
  kind = excluded.kind, size = excluded.size, sha256 = excluded.sha256,
  media_type = excluded.media_type, link_target = excluded.link_target`;

export const ARTIFACT_SELECT_LIST = 'path, kind, size, sha256, media_type, link_target';

export function artifactRowParams(
  runId: string,
  artifact: Artifact,
): Record<string, SQLInputValue> {
  return {
    run_id: runId,
    path: artifact.path,
    kind: artifact.kind,
    size: artifact.size,
    sha256: artifact.sha256,
    media_type: artifact.mediaType,
    link_target: artifact.linkTarget ?? null,
  };
}

export function storedArtifactFromRow(
  row: Row,
  runId: string,
  report: ReportCorruption,
): StoredArtifact {
  const r = readRow(row, { table: 'artifacts', key: `${runId}:${String(row.path)}` }, report);
  const linkTarget = r.nullableText('link_target');
  return {
    path: r.text('path'),
    kind: r.oneOf('kind', ['file', 'symlink'], 'file'),
    size: r.int('size'),
    sha256: r.nullableText('sha256'),
    mediaType: r.text('media_type'),
    ...(linkTarget !== null ? { linkTarget } : {}),
  };
}
