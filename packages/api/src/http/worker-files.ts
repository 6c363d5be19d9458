import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  BundleRejectedError,
  BundleTargetExistsError,
  isTreeDigest,
  packTree,
  TreeLimitError,
  unpackTree,
} from '@runbox/cluster';
import { readArtifactList } from '@runbox/executor';

/**
 * The API's internal file routes, for workers that share no disk with it:
 *
 *     GET /internal/v1/projects/<digest>       a project's tree as a tar (packTree)
 *     PUT /internal/v1/runs/<runId>/artifacts  a run's stored artifacts, as the worker stored them
 *
 * Both need the worker token. Without one configured the routes are off and answer 404, so a
 * server that runs its own runs exposes nothing here. Answers name what was wrong and the limit,
 * never a host path.
 */

const PREFIX = '/internal/v1/';
const PROJECT_ROUTE = /^\/internal\/v1\/projects\/([^/]+)$/;
const ARTIFACTS_ROUTE = /^\/internal\/v1\/runs\/([^/]+)\/artifacts$/;
/** As the artifact store takes it. */
const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;
const BEARER = /^Bearer +(\S+) *$/i;

export interface WorkerFilesDeps {
  /** The worker token; null turns the routes off. */
  token: string | null;
  projects: { dirOf(digest: string): string | undefined };
  /** Where the API keeps artifacts: `<artifactsRoot>/<runId>` as openArtifact reads it. */
  artifactsRoot: string;
  /** Whether this run's artifacts are expected now (a run of a worker, ended, none stored yet). */
  acceptsArtifacts(runId: string): boolean;
  /** What one upload may hold: files and directories, and bytes of files. */
  uploadLimits: { maxFiles: number; maxBytes: number };
}

function sendJson(res: ServerResponse, status: number, body: object): true {
  const text = JSON.stringify(body);
  res
    .writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(text)),
      'cache-control': 'no-store',
    })
    .end(text);
  return true;
}

function digestOfToken(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Compared as SHA-256 digests, so neither the length nor a prefix of the token leaks. */
function isAuthorized(req: IncomingMessage, token: string): boolean {
  const given = BEARER.exec(req.headers.authorization ?? '')?.[1];
  const same = timingSafeEqual(digestOfToken(given ?? ''), digestOfToken(token));
  return same && given !== undefined;
}

function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

/** Answers the request when it is one of the internal file routes; false when it is not. */
export async function serveWorkerFiles(
  deps: WorkerFilesDeps,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const { pathname } = new URL(req.url ?? '/', 'http://localhost');
  if (!pathname.startsWith(PREFIX)) return false;
  if (deps.token === null) {
    return sendJson(res, 404, {
      error: 'the internal file routes are off on this server: no worker token is configured',
    });
  }
  if (!isAuthorized(req, deps.token)) {
    res.setHeader('www-authenticate', 'Bearer');
    return sendJson(res, 401, { error: 'a worker token is needed: Authorization: Bearer <token>' });
  }

  const project = PROJECT_ROUTE.exec(pathname);
  if (project) {
    if (req.method !== 'GET') return methodNotAllowed(res, 'GET');
    return serveProject(deps, project[1] ?? '', res);
  }
  const artifacts = ARTIFACTS_ROUTE.exec(pathname);
  if (artifacts) {
    if (req.method !== 'PUT') return methodNotAllowed(res, 'PUT');
    return receiveArtifacts(deps, artifacts[1] ?? '', req, res);
  }
  return sendJson(res, 404, { error: `no internal route ${pathname}` });
}

function methodNotAllowed(res: ServerResponse, allowed: string): true {
  res.setHeader('allow', allowed);
  return sendJson(res, 405, { error: `this route takes ${allowed} only` });
}

async function serveProject(
  deps: WorkerFilesDeps,
  digest: string,
  res: ServerResponse,
): Promise<true> {
  if (!isTreeDigest(digest)) {
    return sendJson(res, 400, {
      error: 'a project digest is "sha256-" and 64 lowercase hex digits',
    });
  }
  const dir = deps.projects.dirOf(digest);
  if (dir === undefined) return sendJson(res, 404, { error: `no project with digest ${digest}` });

  const chunks = packTree(dir)[Symbol.asyncIterator]();
  // The first chunk comes after the whole tree is listed: a project that has gone since its
  // digest was taken is still a 404, and any other failure there still a 500, not a cut tar.
  let first: IteratorResult<Buffer>;
  try {
    first = (await chunks.next()) as IteratorResult<Buffer>;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') {
      return sendJson(res, 404, { error: `no project with digest ${digest}` });
    }
    throw error;
  }
  res.writeHead(200, {
    'content-type': 'application/x-tar',
    'cache-control': 'no-store',
    'x-runbox-digest': digest,
  });
  try {
    await pipeline(async function* () {
      try {
        if (first.done !== true) yield first.value;
        for (;;) {
          const next = (await chunks.next()) as IteratorResult<Buffer>;
          if (next.done === true) return;
          yield next.value;
        }
      } finally {
        // Also when the worker went away: the tar stream closes the file it was reading.
        await chunks.return?.();
      }
    }, res);
  } catch (error) {
    // The worker hung up: nobody is left to answer, and its retry fetches again.
    if (errorCode(error) === 'ERR_STREAM_PREMATURE_CLOSE') return true;
    throw error;
  }
  return true;
}

async function receiveArtifacts(
  deps: WorkerFilesDeps,
  runId: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<true> {
  if (!RUN_ID.test(runId)) {
    return sendJson(res, 400, { error: 'a run id is 1 to 128 letters, digits, _ or -' });
  }
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/x-tar') {
    return sendJson(res, 415, {
      error: `content type ${JSON.stringify(type || 'none')} is refused; send application/x-tar`,
    });
  }
  if (!deps.acceptsArtifacts(runId)) {
    return sendJson(res, 409, {
      error: `run ${runId} is not waiting for artifacts: unknown, not run by a worker, not ended, or its artifacts are in already`,
    });
  }
  await mkdir(deps.artifactsRoot, { recursive: true, mode: 0o700 });
  const target = join(deps.artifactsRoot, runId);
  let stored: { entries: number; bytes: number };
  try {
    // destroyOnReturn false: a refusal mid-body must leave the socket up for the answer.
    stored = await unpackTree(req.iterator({ destroyOnReturn: false }), target, deps.uploadLimits);
  } catch (error) {
    if (error instanceof BundleTargetExistsError) {
      return sendJson(res, 409, { error: `the artifacts of run ${runId} are stored already` });
    }
    if (error instanceof TreeLimitError) return sendJson(res, 413, { error: error.message });
    if (error instanceof BundleRejectedError) return sendJson(res, 400, { error: error.message });
    throw error;
  }
  // What openArtifact will read must be a manifest it can read: refuse the upload now, not each
  // download later.
  let manifestError: string | null = null;
  try {
    if ((await readArtifactList(deps.artifactsRoot, runId)) === null) {
      manifestError = 'manifest.json is missing';
    }
  } catch {
    manifestError = 'manifest.json is not an artifact list';
  }
  if (manifestError !== null) {
    await rm(target, { recursive: true, force: true });
    return sendJson(res, 400, {
      error: `the upload is not a run's stored artifacts: ${manifestError}`,
    });
  }
  return sendJson(res, 201, { runId, entries: stored.entries, bytes: stored.bytes });
}
