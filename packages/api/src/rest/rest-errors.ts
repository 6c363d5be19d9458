import { TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';
import { z } from 'zod';
import { errorDetails, toTRPCError } from '../errors/to-trpc-error.ts';
import { DETAIL_FIELDS } from '../errors/runbox-error.ts';

/**
 * Errors on the REST surface: one JSON object per error, `{ error: { code, message, field, rule,
 * ... } }`, with the HTTP status the one error map (errors/to-trpc-error.ts) gives the same error
 * over tRPC. `code` is runbox's own code when a known error is behind the answer (QUEUE_FULL,
 * LIMIT_OUT_OF_RANGE, OWNER_REQUIRED, ...), BAD_INPUT for input that broke a schema rule, else
 * the tRPC code of the status (METHOD_NOT_SUPPORTED, PAYLOAD_TOO_LARGE, ...).
 */

export const restErrorSchema = z
  .object({
    error: z
      .object({
        code: z.string(),
        message: z.string(),
        /** The input at fault, as a dotted path (`limits.wallTimeMs`), a header or a parameter. */
        field: z.string().nullable(),
        /** The rule it broke: a zod issue code (`too_big`), an upload rule, a limit's name. */
        rule: z.string().nullable(),
        limit: z.union([z.number(), z.string()]).optional(),
        line: z.number().optional(),
        entry: z.string().optional(),
        retryAfterMs: z.number().optional(),
        kind: z.string().optional(),
        min: z.number().optional(),
        max: z.number().optional(),
        maxBytes: z.number().optional(),
        queueLength: z.number().optional(),
        maxQueueLength: z.number().optional(),
      })
      .strict(),
  })
  .strict();
export type RestErrorBody = z.infer<typeof restErrorSchema>;

/** A request the REST layer itself refuses (its method, media type, size, encoding, parameters). */
export class RestRequestError extends Error {
  readonly status: number;
  /** A tRPC code key (the REST layer's own refusals) or BAD_INPUT. */
  readonly restCode: string;
  readonly field: string | null;
  readonly rule: string | null;
  readonly limit: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  constructor(options: {
    status: number;
    code: string;
    message: string;
    field?: string | null;
    rule?: string | null;
    limit?: number;
    headers?: Record<string, string>;
  }) {
    super(options.message);
    this.name = 'RestRequestError';
    this.status = options.status;
    this.restCode = options.code;
    this.field = options.field ?? null;
    this.rule = options.rule ?? null;
    this.limit = options.limit;
    this.headers = options.headers ?? {};
  }
}

/** Input that broke a rule: 400, BAD_INPUT, naming the field and the rule. */
export function badInput(field: string, rule: string, message: string, limit?: number) {
  return new RestRequestError({
    status: 400,
    code: 'BAD_INPUT',
    message: `${field}: ${message}`,
    field,
    rule,
    ...(limit !== undefined ? { limit } : {}),
  });
}

export interface RestErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: RestErrorBody;
  /** True for runbox's own failures: the caller logs `error` whole. */
  internal: boolean;
}

interface SchemaIssue {
  code: string;
  path: readonly PropertyKey[];
  message: string;
  keys?: readonly string[];
  maximum?: number | bigint;
  minimum?: number | bigint;
  /** A custom check's own data: runbox's checks put the rule they enforce in `rule`. */
  params?: Record<string, unknown>;
}

/** The rule an issue broke: a custom check's own (`env-denied`), else zod's issue code. */
function ruleOf(issue: SchemaIssue): string {
  const rule = issue.code === 'custom' ? issue.params?.rule : undefined;
  return typeof rule === 'string' ? rule : issue.code;
}

/** The schema issues of a procedure's input that failed its schema (never of its output). */
function inputIssuesOf(error: unknown): readonly SchemaIssue[] | null {
  if (
    error instanceof TRPCError &&
    error.code === 'BAD_REQUEST' &&
    error.cause instanceof z.ZodError
  )
    return error.cause.issues as readonly SchemaIssue[];
  return null;
}

/** The field of a schema issue as a dotted path; `body` for the body as a whole. */
function fieldOf(issue: SchemaIssue, root: string): string {
  const path = issue.path.map(String);
  // An unknown key is the key, not the object that has it.
  if (issue.code === 'unrecognized_keys' && issue.keys?.[0] !== undefined) path.push(issue.keys[0]);
  return path.length > 0 ? path.join('.') : root;
}

/** The first issue of a failed schema check, as a REST error. */
export function schemaError(issues: readonly SchemaIssue[], root = 'body'): RestRequestError {
  const issue = issues[0];
  if (!issue) return badInput(root, 'invalid', 'is not valid');
  const field = fieldOf(issue, root);
  const bound =
    issue.code === 'too_big'
      ? issue.maximum
      : issue.code === 'too_small'
        ? issue.minimum
        : undefined;
  return badInput(
    field,
    ruleOf(issue),
    issue.message,
    typeof bound === 'number' || typeof bound === 'bigint' ? Number(bound) : undefined,
  );
}

function retryAfterHeader(retryAfterMs: number | undefined): Record<string, string> {
  // Without an estimate a second is a fair first try (a full queue or a held stream frees up).
  return { 'retry-after': String(Math.max(1, Math.ceil((retryAfterMs ?? 1_000) / 1_000))) };
}

function answer(
  status: number,
  code: string,
  message: string,
  extra: Record<string, string | number> = {},
  headers: Record<string, string> = {},
): RestErrorAnswer {
  const error: Record<string, string | number | null> = {
    code,
    message,
    field: null,
    rule: null,
  };
  for (const key of DETAIL_FIELDS) if (extra[key] !== undefined) error[key] = extra[key];
  const all = { ...headers };
  if (status === 429) Object.assign(all, retryAfterHeader(Number(extra.retryAfterMs) || undefined));
  if (status === 401) all['www-authenticate'] = 'Bearer realm="runbox"';
  return {
    status,
    headers: all,
    body: { error: error as RestErrorBody['error'] },
    internal: status >= 500 && status !== 503,
  };
}

/**
 * The one REST error answer for anything thrown while serving a call: a REST refusal, a schema
 * failure (zod, from a procedure's input), a TRPCError, or an error runbox knows (through the
 * tRPC map, so both surfaces give it the same status). Anything else is runbox's own failure:
 * 500 without its details.
 */
export function restErrorOf(error: unknown): RestErrorAnswer {
  if (error instanceof RestRequestError) {
    return answer(
      error.status,
      error.restCode,
      error.message,
      {
        ...(error.field !== null ? { field: error.field } : {}),
        ...(error.rule !== null ? { rule: error.rule } : {}),
        ...(error.limit !== undefined ? { limit: error.limit } : {}),
      },
      { ...error.headers },
    );
  }
  const issues = inputIssuesOf(error);
  if (issues) return restErrorOf(schemaError(issues));
  const trpc = toTRPCError(error);
  const status = getHTTPStatusCodeFromError(trpc);
  const details = errorDetails(trpc.cause ?? error);
  if (details) {
    const { code, ...rest } = details;
    // The rule broken: the error's own (an upload rule), a rate limit's name, else its code.
    const rule = rest.rule ?? (typeof rest.limit === 'string' ? rest.limit : code.toLowerCase());
    return answer(status, code, trpc.message, {
      ...(rest as Record<string, string | number>),
      rule,
    });
  }
  const code: TRPC_ERROR_CODE_KEY = trpc.code;
  if (code === 'INTERNAL_SERVER_ERROR')
    return answer(500, code, 'runbox failed to do this; the server log has the details');
  return answer(status, code, trpc.message);
}
