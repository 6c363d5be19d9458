import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import {
  DETAIL_FIELDS,
  type RunboxError,
  type RunboxErrorCode,
  type RunboxErrorDetails,
} from './runbox-error.ts';

/**
 * The one place that maps an internal error to the wire. Errors of the caller's making keep
 * their message (it names what was wrong and the limit); runbox's own failures are reported as
 * INTERNAL_SERVER_ERROR without their details, which go to the log. Every known code is listed:
 * a new error class does not compile until it is placed here.
 */
export const CODE_TO_TRPC = {
  // engine
  QUEUE_FULL: 'TOO_MANY_REQUESTS',
  RUN_NOT_FOUND: 'NOT_FOUND',
  SHUTTING_DOWN: 'SERVICE_UNAVAILABLE',
  INVALID_RUN_REQUEST: 'BAD_REQUEST',
  UNKNOWN_TOOL: 'BAD_REQUEST',
  EVENTS_UNAVAILABLE: 'NOT_FOUND',
  INVALID_TRANSITION: 'INTERNAL_SERVER_ERROR',
  // validation of code
  CODE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  SECRET_IN_CODE: 'BAD_REQUEST',
  DANGEROUS_PATTERN: 'BAD_REQUEST',
  SYNTAX_ERROR: 'BAD_REQUEST',
  // sandbox
  LIMIT_OUT_OF_RANGE: 'BAD_REQUEST',
  UNSAFE_SANDBOX: 'SERVICE_UNAVAILABLE',
  SANDBOX_HOST_UNAVAILABLE: 'INTERNAL_SERVER_ERROR',
  CGROUP_UNAVAILABLE: 'INTERNAL_SERVER_ERROR',
  ERR_SECCOMP_UNSUPPORTED_ARCH: 'INTERNAL_SERVER_ERROR',
  SNIPPET_NOT_RUN: 'INTERNAL_SERVER_ERROR',
  // a link or a special file a run left where runbox reads
  UNSAFE_WORKSPACE_PATH: 'FORBIDDEN',
  // output
  INVALID_LINE_SPLITTER_OPTION: 'INTERNAL_SERVER_ERROR',
  LINE_SPLITTER_ENDED: 'INTERNAL_SERVER_ERROR',
  // tools, examples, projects in a workspace
  TOOL_REGISTRY_INVALID: 'INTERNAL_SERVER_ERROR',
  TOOL_ARGV: 'BAD_REQUEST',
  TOOL_NOT_APPLICABLE: 'BAD_REQUEST',
  EXAMPLE_INVALID: 'INTERNAL_SERVER_ERROR',
  PROJECT_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  PROJECT_COPY: 'INTERNAL_SERVER_ERROR',
  // dependency environments: the request's (no manifest, no registry allowed, an unknown name)
  ENVIRONMENT_REFUSED: 'BAD_REQUEST',
  INSTALL_FAILED: 'BAD_REQUEST',
  // the operator's egress settings, and the proxy's socket: runbox's own
  EGRESS_CONFIG: 'INTERNAL_SERVER_ERROR',
  EGRESS_PROXY: 'INTERNAL_SERVER_ERROR',
  // the process that starts the sandboxes: runbox's own
  FORKER: 'INTERNAL_SERVER_ERROR',
  // artifacts
  INVALID_ARTIFACT_OPTIONS: 'INTERNAL_SERVER_ERROR',
  INVALID_ARTIFACT_PATH: 'BAD_REQUEST',
  ARTIFACT_NOT_FOUND: 'NOT_FOUND',
  // configuration: the operator's to fix, met at start
  CONFIG: 'INTERNAL_SERVER_ERROR',
  INVALID_UPLOAD_LIMIT: 'INTERNAL_SERVER_ERROR',
  SANDBOX_DIR_IN_USE: 'INTERNAL_SERVER_ERROR',
  // uploads (the project id is the server's own, never the caller's)
  UPLOAD_REJECTED: 'BAD_REQUEST',
  INVALID_PROJECT_ID: 'INTERNAL_SERVER_ERROR',
  PROJECT_EXISTS: 'INTERNAL_SERVER_ERROR',
  // store
  SCHEMA_TOO_NEW: 'INTERNAL_SERVER_ERROR',
  MIGRATION_FAILED: 'INTERNAL_SERVER_ERROR',
  STORE_OPEN_FAILED: 'INTERNAL_SERVER_ERROR',
  STORE_CLOSED: 'SERVICE_UNAVAILABLE',
  INVALID_STORE_ARGUMENT: 'INTERNAL_SERVER_ERROR',
  STORE_CONSTRAINT: 'INTERNAL_SERVER_ERROR',
  RUN_ALREADY_ENDED: 'INTERNAL_SERVER_ERROR',
  CORRUPT_COLUMN: 'INTERNAL_SERVER_ERROR',
  EVENT_WRITE_FAILED: 'INTERNAL_SERVER_ERROR',
  // the API's own
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  NOT_FOUND: 'NOT_FOUND',
  ADMIN_REQUIRED: 'UNAUTHORIZED',
  OWNER_REQUIRED: 'UNAUTHORIZED',
  BAD_INPUT: 'BAD_REQUEST',
  // embedded mode: the request makes sense only with workers
  NO_WORKERS: 'PRECONDITION_FAILED',
  REQUEST_REFUSED: 'FORBIDDEN',
  // a callback URL this server will not call (SSRF rule, no secret to sign with)
  CALLBACK_REFUSED: 'BAD_REQUEST',
  // sessions and interactive runs
  SESSION_BUSY: 'CONFLICT',
  SESSION_KERNEL_ENDED: 'CONFLICT',
  SESSION_GONE: 'PRECONDITION_FAILED',
  INVALID_VARIABLE: 'BAD_REQUEST',
  RUN_NOT_INTERACTIVE: 'PRECONDITION_FAILED',
  SESSION_LIMIT: 'TOO_MANY_REQUESTS',
  SESSIONS_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
} as const satisfies Readonly<Record<RunboxErrorCode, TRPC_ERROR_CODE_KEY>>;

/** Upload rules about size or count: 413 rather than 400. */
const SIZE_RULES: ReadonlySet<string> = new Set([
  'upload-too-large',
  'file-too-large',
  'total-too-large',
  'too-many-files',
  'too-many-directories',
  'compression-ratio',
]);

export function isRunboxErrorCode(code: string): code is RunboxErrorCode {
  return Object.hasOwn(CODE_TO_TRPC, code);
}

/** An error of a class runbox knows, told by its `code`. */
export function isRunboxError(error: unknown): error is RunboxError {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    isRunboxErrorCode(error.code)
  );
}

export function trpcCodeFor(error: unknown): TRPC_ERROR_CODE_KEY {
  if (!isRunboxError(error)) return 'INTERNAL_SERVER_ERROR';
  switch (error.code) {
    case 'UPLOAD_REJECTED':
      return SIZE_RULES.has(error.rule) ? 'PAYLOAD_TOO_LARGE' : 'BAD_REQUEST';
    case 'REQUEST_REFUSED':
      return error.status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : 'FORBIDDEN';
    default:
      return CODE_TO_TRPC[error.code];
  }
}

export function toTRPCError(error: unknown): TRPCError {
  if (error instanceof TRPCError) return error;
  const code = trpcCodeFor(error);
  if (code === 'INTERNAL_SERVER_ERROR') {
    return new TRPCError({
      code,
      message: 'runbox failed to do this; the server log has the details',
      cause: error,
    });
  }
  return new TRPCError({ code, message: (error as Error).message, cause: error });
}

/**
 * `data.runbox` for the client: what rule, field, line or limit a known error broke. Null for
 * anything reported as INTERNAL_SERVER_ERROR, whose details stay in the log.
 */
export function errorDetails(error: unknown): RunboxErrorDetails | null {
  if (!isRunboxError(error) || trpcCodeFor(error) === 'INTERNAL_SERVER_ERROR') return null;
  const details: Record<string, string | number> = { code: error.code };
  for (const key of DETAIL_FIELDS) {
    const value: unknown = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'number') details[key] = value;
  }
  return details as unknown as RunboxErrorDetails;
}
