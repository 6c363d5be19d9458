import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { packTree } from './tree-bundle.ts';
import { assertTreeDigest, DEFAULT_TREE_LIMITS, type TreeLimits } from './tree-digest.ts';

/**
 * A worker's side of the API's internal file routes (packages/api/src/http/worker-files.ts):
 * project bundles down by digest, a run's kept artifacts up as one bundle. node:http rather than
 * fetch: the upload streams a tar of unknown length, and a refusal the API sends before it has
 * read the whole body must win over the broken pipe that follows it.
 */

const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Bytes of an error answer read at most; the API's are a line of JSON. */
const MAX_ERROR_BODY = 64 * 1024;

export interface WorkerFilesTarget {
  /** The API's base URL, e.g. `http://api:3000`. */
  apiUrl: string;
  /** The worker token the API was configured with. */
  token: string;
  /** Aborts the request (and the body being read or sent). */
  signal?: AbortSignal | undefined;
}

/** The API answered a file request with something other than 2xx. */
export class WorkerFilesRequestError extends Error {
  readonly code = 'WORKER_FILES_REQUEST';
  readonly status: number;
  /** The `error` of the API's JSON answer, or the start of whatever else it sent. */
  readonly serverMessage: string;
  constructor(options: { method: string; path: string; status: number; serverMessage: string }) {
    super(`${options.method} ${options.path} answered ${options.status}: ${options.serverMessage}`);
    this.name = 'WorkerFilesRequestError';
    this.status = options.status;
    this.serverMessage = options.serverMessage;
  }
}

/** A run id as the artifact store takes it; refused before it becomes part of a URL. */
export class InvalidRunIdError extends Error {
  readonly code = 'INVALID_RUN_ID';
  constructor(runId: string) {
    super(
      `${JSON.stringify(runId.slice(0, 200))} is not a run id: 1 to 128 letters, digits, _ or -`,
    );
    this.name = 'InvalidRunIdError';
  }
}

function endpoint(apiUrl: string, path: string): URL {
  return new URL(apiUrl.replace(/\/+$/, '') + path);
}

function open(
  url: URL,
  method: string,
  target: WorkerFilesTarget,
  headers: Record<string, string> = {},
): ClientRequest {
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return request(url, {
    method,
    headers: { ...headers, authorization: `Bearer ${target.token}` },
    ...(target.signal ? { signal: target.signal } : {}),
  });
}

function responseOf(req: ClientRequest): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    req.once('response', resolve);
    req.once('error', reject);
  });
}

/** Reads a refusal's body (bounded) and turns it into the error to throw. */
async function refusal(
  res: IncomingMessage,
  method: string,
  path: string,
): Promise<WorkerFilesRequestError> {
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= MAX_ERROR_BODY) break;
    }
  } catch {
    // What arrived before the connection went is all there is to report.
  }
  res.destroy();
  const text = Buffer.concat(chunks).toString('utf8').slice(0, MAX_ERROR_BODY);
  let serverMessage = text.trim().slice(0, 500) || '(no body)';
  try {
    const parsed: unknown = JSON.parse(text);
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      'error' in parsed &&
      typeof parsed.error === 'string'
    ) {
      serverMessage = parsed.error;
    }
  } catch {
    // Not JSON: the text itself is the message.
  }
  return new WorkerFilesRequestError({ method, path, status: res.statusCode ?? 0, serverMessage });
}

function isSuccess(res: IncomingMessage): boolean {
  const status = res.statusCode ?? 0;
  return status >= 200 && status < 300;
}

/**
 * GET `<apiUrl>/internal/v1/projects/<digest>`: the project's bundle (a tar from packTree), for
 * unpackTree. The caller reads it to the end or destroys it.
 */
export async function fetchProjectBundle(
  options: WorkerFilesTarget & { digest: string },
): Promise<Readable> {
  assertTreeDigest(options.digest);
  const path = `/internal/v1/projects/${options.digest}`;
  const req = open(endpoint(options.apiUrl, path), 'GET', options);
  const response = responseOf(req);
  req.end();
  const res = await response;
  if (!isSuccess(res)) throw await refusal(res, 'GET', path);
  return res;
}

/**
 * PUT `<apiUrl>/internal/v1/runs/<runId>/artifacts` with packTree(dir) as the body: the whole
 * `<artifactsRoot>/<runId>` directory the executor stored, which the API unpacks as it is.
 */
export async function uploadArtifacts(
  options: WorkerFilesTarget & { runId: string; dir: string; limits?: TreeLimits | undefined },
): Promise<void> {
  if (!RUN_ID.test(options.runId)) throw new InvalidRunIdError(options.runId);
  const path = `/internal/v1/runs/${options.runId}/artifacts`;
  const body = packTree(options.dir, options.limits ?? DEFAULT_TREE_LIMITS);
  const req = open(endpoint(options.apiUrl, path), 'PUT', options, {
    'content-type': 'application/x-tar',
  });
  const response = responseOf(req);
  // Settles with the send's own failure (a tree that cannot be packed), never rejects.
  const sent = pipeline(body, req).then(
    () => null,
    (error: unknown) => error,
  );
  let res: IncomingMessage;
  try {
    res = await response;
  } catch (error) {
    // The request broke: because packing failed (say that), or the connection did.
    const sendError = await sent;
    throw sendError ?? error;
  }
  if (!isSuccess(res)) {
    // The API may answer before it has read everything (a limit passed): stop sending.
    body.destroy();
    throw await refusal(res, 'PUT', path);
  }
  res.resume();
  const sendError = await sent;
  if (sendError !== null) throw sendError;
}
