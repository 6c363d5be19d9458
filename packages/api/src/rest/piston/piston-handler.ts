import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkOrigin } from '../../http/request-guards.ts';
import type { Context } from '../../trpc.ts';
import { checkCredentials } from '../credentials.ts';
import { callProcedure } from '../procedures.ts';
import type { RestDeps } from '../rest-handler.ts';
import { RestRequestError, restErrorOf } from '../rest-errors.ts';
import type { RestAnswer, RestCall, RestOperation } from '../rest-operation.ts';
import { PistonRequestError } from './piston-request.ts';
import { PISTON_PATH, pistonOperations } from './piston-operations.ts';
import { RuntimeVersionsError } from './piston-runtimes.ts';
import { sendJson } from '../send-json.ts';

/**
 * /api/v2: Piston's execute API over the same services as /api/v1 (credentials, origins, rate
 * limits, the procedures), answering as Piston answers: plain JSON, errors as `{message}`.
 */

function operationFor(pathname: string): RestOperation[] {
  return pistonOperations.filter((operation) => `${PISTON_PATH}${operation.path}` === pathname);
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
  const candidates = operationFor(url.pathname);
  if (candidates.length === 0)
    throw new RestRequestError({
      status: 404,
      code: 'NOT_FOUND',
      message: `no such endpoint ${url.pathname} (runbox serves ${PISTON_PATH}/runtimes and ${PISTON_PATH}/execute)`,
    });
  const methods = candidates.map((operation) => operation.method);
  const allow = [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'].join(', ');
  if (req.method === 'OPTIONS') return { status: 204, headers: { allow } };
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  const operation = candidates.find((candidate) => candidate.method === method);
  if (!operation)
    throw new RestRequestError({
      status: 405,
      code: 'METHOD_NOT_SUPPORTED',
      message: `${req.method ?? '?'} is not allowed here; allowed: ${allow}`,
      headers: { allow },
    });
  checkCredentials(req, services.config);

  const ctx: Context = { services, identity, socket: null, credentialProblem: null };
  const call: RestCall = {
    services,
    identity,
    ctx,
    req,
    res,
    params: {},
    query: url.searchParams,
    signal,
    input: () => Promise.resolve(undefined),
    ownQuery: () => ({}),
    call: (path, input, callSignal) => callProcedure(ctx, path, input, callSignal ?? signal),
    takeClientSlot: () => deps.takeClientSlot(identity.clientKey),
  };
  return operation.handle(call);
}

/** Piston's field notation for a REST field: `files.0.name` → `files[0].name`. */
function pistonMessage(message: string): string {
  return message.replace(/^([\w.]+):/, (whole, field: string) =>
    field.includes('.') ? `${field.replace(/\.(\d+)/g, '[$1]')}:` : whole,
  );
}

/** Serves one request under /api/v2. Never throws. */
export async function servePiston(
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
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof PistonRequestError) {
      sendJson(res, 400, { message: error.message }, {});
      return;
    }
    if (error instanceof RuntimeVersionsError) {
      deps.services.log.error({ err: error }, 'the Piston runtimes could not be read');
      sendJson(res, 503, { message: error.message }, { 'retry-after': '5' });
      return;
    }
    const answer = restErrorOf(error);
    if (answer.internal)
      deps.services.log.error({ err: error, url: req.url }, 'Piston call failed');
    if (answer.status === 413 || req.destroyed) answer.headers.connection = 'close';
    sendJson(
      res,
      answer.status,
      { message: pistonMessage(answer.body.error.message) },
      answer.headers,
    );
  }
}

export { PISTON_PATH };
