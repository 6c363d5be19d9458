import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

/**
 * The one place that maps an internal error to the wire. Errors carrying a known `code` keep
 * their message (it names what was wrong and the limit); anything else is runbox's own fault and
 * is reported as INTERNAL_SERVER_ERROR without its details, which go to the log.
 */
const CODE_TO_TRPC: Readonly<Record<string, TRPC_ERROR_CODE_KEY>> = {
  // engine
  QUEUE_FULL: 'TOO_MANY_REQUESTS',
  RUN_NOT_FOUND: 'NOT_FOUND',
  SHUTTING_DOWN: 'SERVICE_UNAVAILABLE',
  INVALID_RUN_REQUEST: 'BAD_REQUEST',
  UNKNOWN_TOOL: 'BAD_REQUEST',
  EVENTS_UNAVAILABLE: 'NOT_FOUND',
  LIMIT_OUT_OF_RANGE: 'BAD_REQUEST',
  UNSAFE_SANDBOX: 'SERVICE_UNAVAILABLE',
  // validation of code
  CODE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  SECRET_IN_CODE: 'BAD_REQUEST',
  DANGEROUS_PATTERN: 'BAD_REQUEST',
  SYNTAX_ERROR: 'BAD_REQUEST',
  // uploads
  UPLOAD_REJECTED: 'BAD_REQUEST',
  // the API's own
  RATE_LIMITED: 'TOO_MANY_REQUESTS',
  NOT_FOUND: 'NOT_FOUND',
  ADMIN_REQUIRED: 'UNAUTHORIZED',
  OWNER_REQUIRED: 'UNAUTHORIZED',
  BAD_INPUT: 'BAD_REQUEST',
};

const SIZE_RULES = new Set([
  'file-too-large',
  'total-too-large',
  'too-many-files',
  'compression-ratio',
]);

export function trpcCodeFor(error: unknown): TRPC_ERROR_CODE_KEY {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string') {
    return 'INTERNAL_SERVER_ERROR';
  }
  if (error.code === 'UPLOAD_REJECTED' && 'rule' in error && SIZE_RULES.has(String(error.rule))) {
    return 'PAYLOAD_TOO_LARGE';
  }
  return CODE_TO_TRPC[error.code] ?? 'INTERNAL_SERVER_ERROR';
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

/** Structured fields of a known error, for the client: what rule, field, line or limit it broke. */
export function errorDetails(error: unknown): Record<string, string | number> | null {
  if (!(error instanceof Error) || !('code' in error) || typeof error.code !== 'string')
    return null;
  if (!(error.code in CODE_TO_TRPC)) return null;
  const details: Record<string, string | number> = { code: error.code };
  for (const key of [
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
  ]) {
    const value = (error as unknown as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'number') details[key] = value;
  }
  return details;
}
