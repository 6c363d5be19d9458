import type { SQLInputValue } from 'node:sqlite';
import type { RunState } from '@runbox/executor';
import { InvalidStoreArgumentError } from './store-errors.ts';

/** Which runs a listing or a count covers. Unset fields do not filter. */
export interface RunFilter {
  /** One owner's runs; unset: everyone's (the admin's view). */
  owner?: string;
  /** Runs in any of these states; an empty list matches none. */
  states?: readonly RunState[];
  toolId?: string;
  language?: string;
  projectId?: string;
}

/** Where a page ended: the next page holds the runs queued before this one. */
export interface RunCursor {
  queuedAt: number;
  id: string;
}

export interface ListRunsOptions extends RunFilter {
  /** Runs per page, 1 to MAX_PAGE_SIZE. */
  limit: number;
  /** The `nextCursor` of the previous page. */
  before?: RunCursor;
}

export const MAX_PAGE_SIZE = 1_000;

export interface RunQuery {
  /** `WHERE …` or ''. */
  where: string;
  params: Record<string, SQLInputValue>;
}

/**
 * The WHERE clause of a filter. Its text depends only on which fields are set (at most 64
 * shapes), so each shape is prepared once and reused.
 */
export function runQuery(filter: RunFilter, before?: RunCursor): RunQuery {
  const clauses: string[] = [];
  const params: Record<string, SQLInputValue> = {};
  if (filter.owner !== undefined) {
    clauses.push('owner = :owner');
    params.owner = filter.owner;
  }
  if (filter.states !== undefined) {
    clauses.push('state IN (SELECT value FROM json_each(:states))');
    params.states = JSON.stringify(filter.states);
  }
  if (filter.toolId !== undefined) {
    clauses.push('tool_id = :tool_id');
    params.tool_id = filter.toolId;
  }
  if (filter.language !== undefined) {
    clauses.push('language = :language');
    params.language = filter.language;
  }
  if (filter.projectId !== undefined) {
    clauses.push('project_id = :project_id');
    params.project_id = filter.projectId;
  }
  if (before !== undefined) {
    if (!Number.isFinite(before.queuedAt) || typeof before.id !== 'string') {
      throw new InvalidStoreArgumentError('before', 'a cursor is { queuedAt: number, id: string }');
    }
    clauses.push('(queued_at, id) < (:before_queued_at, :before_id)');
    params.before_queued_at = before.queuedAt;
    params.before_id = before.id;
  }
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

export function assertPageSize(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw new InvalidStoreArgumentError(
      'limit',
      `must be a whole number from 1 to ${MAX_PAGE_SIZE}, got ${limit}`,
    );
  }
}
