import type { SQLInputValue } from 'node:sqlite';
import { readRow, type ReportCorruption, type Row } from './row-reader.ts';

export type ProjectSource = 'upload' | 'example';

export interface NewProject {
  id: string;
  owner: string;
  /** Shown to the owner: the archive's or the example's name. */
  name: string;
  source: ProjectSource;
  /** Where its files lie on the host; runs get a copy, never this directory. */
  dir: string;
  fileCount: number;
  totalBytes: number;
  /** Default: the store's clock. */
  createdAt?: number;
}

export interface StoredProject {
  id: string;
  owner: string;
  name: string;
  source: ProjectSource;
  dir: string;
  fileCount: number;
  totalBytes: number;
  createdAt: number;
}

export const PROJECT_SELECT_LIST =
  'id, owner, name, source, dir, file_count, total_bytes, created_at';

export function insertProjectParams(
  input: NewProject,
  now: () => number,
): Record<string, SQLInputValue> {
  return {
    id: input.id,
    owner: input.owner,
    name: input.name,
    source: input.source,
    dir: input.dir,
    file_count: input.fileCount,
    total_bytes: input.totalBytes,
    created_at: Math.round(input.createdAt ?? now()),
  };
}

export function storedProjectFromRow(row: Row, report: ReportCorruption): StoredProject {
  const r = readRow(row, { table: 'projects', key: String(row.id) }, report);
  return {
    id: r.text('id'),
    owner: r.text('owner'),
    name: r.text('name'),
    source: r.oneOf('source', ['upload', 'example'], 'upload'),
    dir: r.text('dir'),
    fileCount: r.int('file_count'),
    totalBytes: r.int('total_bytes'),
    createdAt: r.int('created_at'),
  };
}
