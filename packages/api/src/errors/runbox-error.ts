import type {
  ArtifactNotFoundError,
  ArtifactOptionsError,
  CgroupUnavailableError,
  CodeTooLargeError,
  ConfigError,
  DangerousPatternError,
  EgressConfigError,
  EgressProxyError,
  EnvironmentRefusedError,
  ForkerError,
  InstallFailedError,
  EventsUnavailableError,
  ExampleError,
  InvalidArtifactPathError,
  InvalidRunRequestError,
  InvalidTransitionError,
  LimitOutOfRangeError,
  LineSplitterEndedError,
  LineSplitterOptionError,
  ProjectCopyError,
  ProjectTooLargeError,
  QueueFullError,
  RunNotFoundError,
  SandboxHostError,
  SecretInCodeError,
  ShuttingDownError,
  SnippetNotRunError,
  SyntaxCheckError,
  ToolArgvError,
  ToolNotApplicableError,
  ToolRegistryError,
  UnknownToolError,
  UnsafeSandboxError,
  UnsafeWorkspacePathError,
  UnsupportedArchError,
  SandboxDirInUseError,
  SessionBusyError,
  SessionKernelEndedError,
  SessionGoneError,
  InvalidVariableError,
  RunNotInteractiveError,
  SessionsUnavailableError,
} from '@runbox/executor';
import type { SessionLimitError } from '../sessions/session-api-errors.ts';
import type { RequestRefusedError } from '../http/request-guards.ts';
import type { CallbackRefusedError } from '../callbacks/callback-errors.ts';

import type {
  CorruptColumnError,
  EventWriteError,
  InvalidStoreArgumentError,
  MigrationFailedError,
  RunAlreadyEndedError,
  SchemaTooNewError,
  StoreClosedError,
  StoreConstraintError,
  StoreOpenError,
} from '../store/store-errors.ts';
import type {
  InvalidProjectIdError,
  ProjectExistsError,
  UploadRejectedError,
} from '../uploads/upload-errors.ts';
import type { InvalidUploadLimitError } from '../uploads/upload-limits.ts';
import type {
  AdminRequiredError,
  BadInputError,
  NoWorkersError,
  NotFoundError,
  OwnerRequiredError,
  RateLimitError,
} from './api-errors.ts';

/**
 * Every error runbox raises on purpose, by class. A class added with a new `code` belongs here;
 * the wire mapping (`to-trpc-error.ts`) must then say what the new code is on the wire, and its
 * test finds any error class in the sources that this union left out.
 */
export type RunboxError =
  // engine
  | QueueFullError
  | RunNotFoundError
  | ShuttingDownError
  | InvalidRunRequestError
  | UnknownToolError
  | EventsUnavailableError
  | InvalidTransitionError
  // validation of code
  | CodeTooLargeError
  | SecretInCodeError
  | DangerousPatternError
  | SyntaxCheckError
  // sandbox
  | LimitOutOfRangeError
  | UnsafeSandboxError
  | SandboxHostError
  | CgroupUnavailableError
  | UnsupportedArchError
  | UnsafeWorkspacePathError
  | SnippetNotRunError
  // output
  | LineSplitterOptionError
  | LineSplitterEndedError
  // tools, examples, projects in a workspace
  | ToolRegistryError
  | ToolArgvError
  | ToolNotApplicableError
  | ExampleError
  | ProjectTooLargeError
  | ProjectCopyError
  // dependency environments
  | EnvironmentRefusedError
  | InstallFailedError
  | EgressConfigError
  | EgressProxyError
  // the sandbox forker
  | ForkerError
  // artifacts
  | ArtifactOptionsError
  | InvalidArtifactPathError
  | ArtifactNotFoundError
  // configuration
  | ConfigError
  | InvalidUploadLimitError
  | SandboxDirInUseError
  // uploads
  | UploadRejectedError
  | InvalidProjectIdError
  | ProjectExistsError
  // store
  | SchemaTooNewError
  | MigrationFailedError
  | StoreOpenError
  | StoreClosedError
  | InvalidStoreArgumentError
  | StoreConstraintError
  | RunAlreadyEndedError
  | CorruptColumnError
  | EventWriteError
  // the API's own
  | RateLimitError
  | NotFoundError
  | AdminRequiredError
  | OwnerRequiredError
  | BadInputError
  | NoWorkersError
  | RequestRefusedError
  // callbacks
  | CallbackRefusedError
  // sessions and interactive runs
  | SessionBusyError
  | SessionKernelEndedError
  | SessionGoneError
  | InvalidVariableError
  | RunNotInteractiveError
  | SessionLimitError
  | SessionsUnavailableError;

/** The `code` of every error runbox knows; `data.runbox.code` on the wire is one of them. */
export type RunboxErrorCode = RunboxError['code'];

/**
 * `data.runbox` of a tRPC error: the structured part of a known error, for a client to show what
 * was wrong without parsing the message. Null on the wire for input that failed the schema and
 * for runbox's own failures. A field is present only when the error has it.
 */
export interface RunboxErrorDetails {
  code: RunboxErrorCode;
  /** The input field at fault: a limit's name (`wallTimeMs`), a form field, a request path. */
  field?: string;
  /** The rule broken: an upload rule (`path-traversal`) or a dangerous-pattern rule. */
  rule?: string;
  /** 1-based line of the code at fault (syntax error, secret, dangerous pattern). */
  line?: number;
  /**
   * The limit broken: a number for an upload (bytes, a count, a ratio), the rate limit's name
   * (`runsPerHour`), or what filled up for a project (`bytes`, `space`, `entries`, `depth`).
   */
  limit?: number | string;
  /** The offending upload entry, made printable. */
  entry?: string;
  /** When a rate-limited call may come again. */
  retryAfterMs?: number;
  /** The kind of secret found in code, e.g. `github-token` (never the secret itself). */
  kind?: string;
  /** The allowed range of a limit. */
  min?: number;
  max?: number;
  /** Largest code in UTF-8 bytes. */
  maxBytes?: number;
  /** Runs waiting when the queue refused one, and the most it holds. */
  queueLength?: number;
  maxQueueLength?: number;
}

/** The fields of `RunboxErrorDetails` besides `code`, in the order they are copied. */
export const DETAIL_FIELDS = [
  'field',
  'rule',
  'line',
  'limit',
  'entry',
  'retryAfterMs',
  'kind',
  'min',
  'max',
  'maxBytes',
  'queueLength',
  'maxQueueLength',
] as const satisfies readonly Exclude<keyof RunboxErrorDetails, 'code'>[];
