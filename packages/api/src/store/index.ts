export { openStore, type RunPage, type Store, type StoreOptions } from './store.ts';
export type { NewRun, RunKind, RunPatch, StoredRun } from './run-row.ts';
export type { NewProject, ProjectSource, StoredProject } from './project-row.ts';
export type { StoredArtifact } from './artifact-row.ts';
export {
  SESSION_STATES,
  type NewSession,
  type SessionFilter,
  type SessionPatch,
  type SessionState,
  type SessionStore,
  type StoredSession,
} from './session-store.ts';
export {
  MAX_PAGE_SIZE,
  type ListRunsOptions,
  type RunCursor,
  type RunFilter,
} from './run-filter.ts';
export {
  INTERRUPTED_MESSAGE,
  type RecoverOptions,
  type RecoveryOutcome,
  type RequeueEntry,
  type ResumeEntry,
} from './recover-after-crash.ts';
export { DATABASE_FILE_NAME } from './open-database.ts';
export { MIGRATIONS, type Migration } from './migrations.ts';
export * from './store-errors.ts';
