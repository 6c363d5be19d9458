import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkOrigin } from '../http/request-guards.ts';
import type { Identity } from '../identity.ts';
import type { Services } from '../services.ts';
import type { Context } from '../trpc.ts';
import { checkCredentials } from './credentials.ts';
import { jsonSchemaOf, type JsonSchema } from './json-schema.ts';
import { callProcedure, inputSchemaOf } from './procedures.ts';
import { readJsonBody } from './rest-body.ts';
import { badInput, RestRequestError, restErrorOf, schemaError } from './rest-errors.ts';
import type { RestAnswer, RestCall, RestOperation } from './rest-operation.ts';
import { queryToInput } from './rest-query.ts';
import { restOperations } from './rest-table.ts';
import { sendJson } from './send-json.ts';

/**
 * /api/v1: a thin adapter from plain HTTP and JSON to the tRPC procedures (see rest-table.ts for
 * the operations and docs/rest.md for the surface). It matches the path and method, checks the
 * credentials, turns the path, query and body into the procedure's input, calls it as the caller,
 * and answers with plain JSON or one error object. Nothing it is sent is answered with a 500.
 */

export const REST_PATH = '/api/v1';

export interface RestDeps {
  services: Services;
  identity: Identity;
  /** Takes one of a client's places for held-open answers (shared with WebSockets); null if none is left. */
  takeClientSlot(clientKey: string): (() => void) | null;
}

interface CompiledOperation {
  operation: RestOperation;
  pattern: RegExp;
  names: string[];
  /** The procedure's input as JSON Schema: what the query or body may hold. */
  input: JsonSchema | null;
  ownQueryNames: ReadonlySet<string>;
}

function compile(operation: RestOperation): CompiledOperation {
  const names: string[] = [];
  const source = operation.path.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
    names.push(name);
    return '([^/]+)';
  });
  const schema = operation.procedure ? inputSchemaOf(operation.procedure) : null;
  return {
    operation,
    pattern: new RegExp(`^${REST_PATH}${source}$`),
    names,
    input: schema && jsonSchemaOf(schema, 'input'),
    ownQueryNames: new Set(Object.keys(operation.ownQuery?.shape ?? {})),
  };
}

const COMPILED = restOperations.map(compile);

function allowed(candidates: readonly CompiledOperation[]): string {
  const methods = new Set<string>(candidates.map((entry) => entry.operation.method));
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods, 'OPTIONS'].join(', ');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses keys a body object may not have, where its schema is one plain object. */
function checkBodyKeys(body: unknown, schema: JsonSchema | null): void {
  if (!isPlainObject(body) || !schema?.properties || schema.oneOf || schema.anyOf) return;
  for (const key of Object.keys(body)) {
    if (!Object.hasOwn(schema.properties, key))
      throw badInput(key, 'unrecognized_keys', 'is not a field of this call');
  }
}

function decodeParams(entry: CompiledOperation, match: RegExpExecArray): Record<string, string> {
  const params: Record<string, string> = {};
  entry.names.forEach((name, index) => {
    try {
      params[name] = decodeURIComponent(match[index + 1] ?? '');
    } catch {
      throw badInput(name, 'percent-encoding', 'is not valid percent-encoding');
    }
  });
  return params;
}

function ownQueryOf(entry: CompiledOperation, query: URLSearchParams): Record<string, unknown> {
  const schema = entry.operation.ownQuery;
  if (!schema) return {};
  const raw: Record<string, string> = {};
  for (const name of entry.ownQueryNames) {
    const values = query.getAll(name);
    if (values.length > 1) throw badInput(name, 'repeated', 'may be given once');
    if (values[0] !== undefined) raw[name] = values[0];
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw schemaError(parsed.error.issues, 'query');
  return parsed.data;
}

/** The procedure's input: path parameters, and the query or JSON body as the operation says. */
async function inputOf(
  entry: CompiledOperation,
  req: IncomingMessage,
  query: URLSearchParams,
  params: Record<string, string>,
): Promise<unknown> {
  const fromPath = Object.keys(params).length > 0 ? params : null;
  switch (entry.operation.inputFrom) {
    case 'query':
      return { ...queryToInput(query, entry.input, entry.ownQueryNames), ...fromPath };
    case 'body': {
      const body = await readJsonBody(req);
      checkBodyKeys(body, entry.input);
      if (!fromPath) return body;
      if (body === undefined) return { ...fromPath };
      if (!isPlainObject(body)) throw badInput('body', 'invalid_type', 'must be a JSON object');
      for (const name of Object.keys(fromPath)) {
        if (Object.hasOwn(body, name))
          throw badInput(name, 'path-parameter', 'is in the path; leave it out of the body');
      }
      return { ...body, ...fromPath };
    }
    case 'none': {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        const body = await readJsonBody(req);
        if (body !== undefined && !(isPlainObject(body) && Object.keys(body).length === 0))
          throw badInput('body', 'no-body', 'this call takes no body (send none, or {})');
      }
      return fromPath ? { ...fromPath } : undefined;
    }
    case 'multipart':
      throw new Error(`${entry.operation.operationId} reads its multipart body itself`);
  }
}

async function dispatch(
  deps: RestDeps,
  req: IncomingMessage,
  res: ServerResponse,
  signal: AbortSignal,
): Promise<RestAnswer> {
  const { services, identity } = deps;
  const url = new URL(req.url ?? '/', 'http://localhost');
  checkOrigin(req, services.config.allowedOrigins);

  const candidates: { entry: CompiledOperation; match: RegExpExecArray }[] = [];
  for (const entry of COMPILED) {
    const match = entry.pattern.exec(url.pathname);
    if (match) candidates.push({ entry, match });
  }
  if (candidates.length === 0) {
    throw new RestRequestError({
      status: 404,
      code: 'NOT_FOUND',
      message: `no such endpoint ${url.pathname} (GET ${REST_PATH}/openapi.json lists them)`,
    });
  }
  const allow = allowed(candidates.map((candidate) => candidate.entry));
  if (req.method === 'OPTIONS') return { status: 204, headers: { allow } };
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const found = candidates.find(
    (candidate) =>
      candidate.entry.operation.method === method &&
      !(req.method === 'HEAD' && candidate.entry.operation.streams),
  );
  if (!found) {
    throw new RestRequestError({
      status: 405,
      code: 'METHOD_NOT_SUPPORTED',
      message: `${req.method ?? '?'} is not allowed here; allowed: ${allow}`,
      field: 'method',
      rule: 'allowed-methods',
      headers: { allow },
    });
  }
  checkCredentials(req, services.config);

  const { entry, match } = found;
  const params = decodeParams(entry, match);
  const query = url.searchParams;
  const ownQuery = ownQueryOf(entry, query);
  // Parameters the call does not have are refused whatever the operation reads.
  if (entry.operation.inputFrom !== 'query') queryToInput(query, null, entry.ownQueryNames);

  // checkCredentials above has refused whatever was wrong: nothing is left for the procedures to refuse.
  const ctx: Context = { services, identity, socket: null, credentialProblem: null };
  const call: RestCall = {
    services,
    identity,
    ctx,
    req,
    res,
    params,
    query,
    signal,
    input: () => inputOf(entry, req, query, params),
    ownQuery: () => ownQuery,
    call: (path, input, callSignal) => callProcedure(ctx, path, input, callSignal ?? signal),
    takeClientSlot: () => deps.takeClientSlot(identity.clientKey),
  };
  return entry.operation.handle(call);
}

/**
 * A run or project that is not found for an anonymous caller whose cookie was made by this very
 * call: the caller sent no credentials, so nothing of anyone's is its own yet.
 */
function freshOwnerHint(deps: RestDeps, req: IncomingMessage): string {
  const fresh =
    deps.identity.anonymous && deps.services.ownerCookies.ownerOf(req.headers.cookie) === null;
  return fresh
    ? ' (this call sent no owner cookie and no API key, so it was given a new anonymous owner: send the runbox_owner cookie the answer that created it set, or use an API key)'
    : '';
}

/** Serves one request under /api/v1. Never throws. */
export async function serveRest(
  deps: RestDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const controller = new AbortController();
  res.once('close', () => controller.abort());
  try {
    const answer = await dispatch(deps, req, res, controller.signal);
    if (answer === 'sent') return;
    sendJson(res, answer.status, answer.body, answer.headers ?? {});
  } catch (error) {
    const answer = restErrorOf(error);
    if (answer.internal) deps.services.log.error({ err: error, url: req.url }, 'REST call failed');
    if (answer.status === 404 && !(error instanceof RestRequestError))
      answer.body.error.message += freshOwnerHint(deps, req);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (answer.status === 413 || req.destroyed) answer.headers.connection = 'close';
    sendJson(res, answer.status, answer.body, answer.headers);
  }
}
