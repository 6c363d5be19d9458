import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import {
  digestTree,
  fetchProjectBundle,
  unpackTree,
  uploadArtifacts,
  WorkerFilesRequestError,
} from '@runbox/cluster';
import { ArtifactNotFoundError, openArtifact, readArtifactList } from '@runbox/executor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The executor's own store, as a worker runs it; the API package does not export it.
import { storeArtifacts } from '../../../executor/src/artifacts/artifact-store.ts';
import { EMPTY_SNAPSHOT } from '../../../executor/src/artifacts/workspace-snapshot.ts';
import { createProjectDigests, type ProjectDigests } from '../project-digests.ts';
import { serveWorkerFiles, type WorkerFilesDeps } from './worker-files.ts';

const TOKEN = 'a-worker-token';
const LIMITS = { maxFiles: 100, maxBytes: 1_000_000 };
let base: string;
let apiRoot: string;
let workerRoot: string;
let workspace: string;
let project: string;
let digests: ProjectDigests;
let accepting: Set<string>;
let deps: WorkerFilesDeps;
let server: Server;
let apiUrl: string;
/** Every error body the server sent, to check none names a host path. */
let errorBodies: string[];

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-worker-files-'));
  apiRoot = join(base, 'api', 'artifacts');
  workerRoot = join(base, 'worker', 'artifacts');
  workspace = join(base, 'worker', 'workspace');
  project = join(base, 'api', 'projects', 'p1');
  await mkdir(join(workspace, 'data', 'deep'), { recursive: true });
  await writeFile(join(workspace, 'out.txt'), 'hello\n');
  await writeFile(join(workspace, 'data', 'result.csv'), 'a,b\n1,2\n');
  await writeFile(join(workspace, 'data', 'deep', 'plot.svg'), '<svg/>');
  await symlink('/etc/passwd', join(workspace, 'leak'));
  await mkdir(join(project, 'src'), { recursive: true });
  await writeFile(join(project, 'src', 'main.js'), 'console.log(1)\n');
  await writeFile(join(project, 'run.sh'), '#!/bin/sh\n');
  await chmod(join(project, 'run.sh'), 0o755);

  digests = createProjectDigests();
  accepting = new Set(['run-1']);
  errorBodies = [];
  deps = {
    token: TOKEN,
    projects: digests,
    artifactsRoot: apiRoot,
    acceptsArtifacts: (runId) => accepting.has(runId),
    uploadLimits: LIMITS,
  };
  server = createServer((req, res) => {
    const end = res.end.bind(res);
    res.end = ((chunk?: unknown) => {
      if (res.statusCode >= 400 && typeof chunk === 'string') errorBodies.push(chunk);
      return end(chunk as string);
    }) as typeof res.end;
    serveWorkerFiles(deps, req, res).then(
      (handled) => {
        if (!handled) res.writeHead(418).end('not mine');
      },
      (error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
        else res.destroy();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  // No answer may name a host path.
  for (const body of errorBodies) expect(body).not.toContain(base);
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(base, { recursive: true, force: true });
});

/** A raw request, for what the client would never send. */
async function call(
  method: string,
  path: string,
  options: { authorization?: string; body?: Buffer; contentType?: string } = {},
): Promise<{ status: number; error: string | undefined }> {
  const headers: Record<string, string> = {};
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers,
    ...(options.body ? { body: options.body } : {}),
  });
  const body = await response.text();
  let error: string | undefined;
  try {
    error = (JSON.parse(body) as { error?: string }).error;
  } catch {
    error = undefined;
  }
  return { status: response.status, error };
}

const bearer = `Bearer ${TOKEN}`;
const storeOnWorker = (runId = 'run-1') =>
  storeArtifacts({ root: workerRoot, runId, workspaceDir: workspace, before: EMPTY_SNAPSHOT });
const upload = (runId = 'run-1') =>
  uploadArtifacts({ apiUrl, token: TOKEN, runId, dir: join(workerRoot, runId) });

describe('PUT /internal/v1/runs/<runId>/artifacts', () => {
  it('stores what the worker stored, so openArtifact serves it unchanged', async () => {
    const collection = await storeOnWorker();
    await upload();

    expect(await readArtifactList(apiRoot, 'run-1')).toEqual(collection);
    expect(await digestTree(join(apiRoot, 'run-1'), LIMITS)).toBe(
      await digestTree(join(workerRoot, 'run-1'), LIMITS),
    );
    const csv = await openArtifact(apiRoot, 'run-1', 'data/result.csv');
    expect(await text(csv.stream)).toBe('a,b\n1,2\n');
    expect(csv.sha256).toBe(createHash('sha256').update('a,b\n1,2\n').digest('hex'));
    expect(csv.mediaType).toBe('text/csv');
    const svg = await openArtifact(apiRoot, 'run-1', 'data/deep/plot.svg');
    expect(await text(svg.stream)).toBe('<svg/>');
    // The link crossed as a line of the list, as on the worker: listed, never served.
    expect(collection.artifacts.find((a) => a.path === 'leak')).toMatchObject({
      kind: 'symlink',
      linkTarget: '/etc/passwd',
    });
    await expect(openArtifact(apiRoot, 'run-1', 'leak')).rejects.toBeInstanceOf(
      ArtifactNotFoundError,
    );
  });

  it('refuses a second upload of one run, keeping the first', async () => {
    await storeOnWorker();
    await upload();
    await writeFile(join(workerRoot, 'run-1', 'files', 'out.txt'), 'changed\n');
    const error = await upload().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WorkerFilesRequestError);
    expect(error).toMatchObject({
      status: 409,
      serverMessage: 'the artifacts of run run-1 are stored already',
    });
    expect(await text((await openArtifact(apiRoot, 'run-1', 'out.txt')).stream)).toBe('hello\n');
  });

  it('refuses a run that is not waiting for artifacts, writing nothing', async () => {
    accepting.clear();
    await storeOnWorker();
    await expect(upload()).rejects.toMatchObject({
      status: 409,
      serverMessage: expect.stringContaining('run run-1 is not waiting for artifacts'),
    });
    expect(existsSync(join(apiRoot, 'run-1'))).toBe(false);
  });

  it('answers 413 past the upload limits, naming the limit, and keeps nothing', async () => {
    deps.uploadLimits = { maxFiles: 100, maxBytes: 10 };
    await storeOnWorker();
    const error = await upload().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ status: 413 });
    expect((error as WorkerFilesRequestError).serverMessage).toContain('maxBytes=10');
    expect(existsSync(join(apiRoot, 'run-1'))).toBe(false);

    deps.uploadLimits = { maxFiles: 3, maxBytes: 1_000_000 };
    await expect(upload()).rejects.toMatchObject({
      status: 413,
      serverMessage: expect.stringContaining('maxFiles=3'),
    });
  });

  it('answers 413 to a large upload mid-body, before the worker has sent it all', async () => {
    await writeFile(join(workspace, 'big.bin'), Buffer.alloc(8_000_000, 1));
    deps.uploadLimits = { maxFiles: 100, maxBytes: 100_000 };
    await storeOnWorker();
    await expect(upload()).rejects.toMatchObject({
      status: 413,
      serverMessage: expect.stringContaining('"files/big.bin"'),
    });
    expect(existsSync(join(apiRoot, 'run-1'))).toBe(false);
  });

  it('refuses what is not a run’s stored artifacts', async () => {
    const loose = join(base, 'loose');
    await mkdir(loose);
    await writeFile(join(loose, 'whatever.txt'), 'x');
    await expect(
      uploadArtifacts({ apiUrl, token: TOKEN, runId: 'run-1', dir: loose }),
    ).rejects.toMatchObject({
      status: 400,
      serverMessage: expect.stringContaining('manifest.json is missing'),
    });
    await writeFile(join(loose, 'manifest.json'), '{"artifacts": 3}');
    await expect(
      uploadArtifacts({ apiUrl, token: TOKEN, runId: 'run-1', dir: loose }),
    ).rejects.toMatchObject({
      status: 400,
      serverMessage: expect.stringContaining('not an artifact list'),
    });
    expect(existsSync(join(apiRoot, 'run-1'))).toBe(false);
  });

  it('refuses a bundle with a link in it, naming the entry', async () => {
    const { pack } = await import('tar-stream');
    const archive = pack();
    archive.entry({ name: 'manifest.json' }, '{}');
    archive.entry({ name: 'files', type: 'directory' });
    archive.entry({ name: 'files/x', type: 'symlink', linkname: '/etc/shadow' });
    archive.finalize();
    const chunks: Buffer[] = [];
    for await (const chunk of archive) chunks.push(chunk as Buffer);
    const answer = await call('PUT', '/internal/v1/runs/run-1/artifacts', {
      authorization: bearer,
      contentType: 'application/x-tar',
      body: Buffer.concat(chunks),
    });
    expect(answer.status).toBe(400);
    expect(answer.error).toContain('"files/x"');
    expect(answer.error).toContain('symlink');
    expect(existsSync(join(apiRoot, 'run-1'))).toBe(false);
  });

  it('checks the run id, the content type and the method', async () => {
    expect(
      (await call('PUT', '/internal/v1/runs/a.b/artifacts', { authorization: bearer })).status,
    ).toBe(400);
    expect(
      await call('PUT', '/internal/v1/runs/run-1/artifacts', {
        authorization: bearer,
        contentType: 'application/json',
        body: Buffer.from('{}'),
      }),
    ).toEqual({
      status: 415,
      error: 'content type "application/json" is refused; send application/x-tar',
    });
    expect(
      (await call('GET', '/internal/v1/runs/run-1/artifacts', { authorization: bearer })).status,
    ).toBe(405);
  });
});

describe('GET /internal/v1/projects/<digest>', () => {
  it('sends the tree of a known digest', async () => {
    const digest = await digests.digestOf(project);
    expect(digests.dirOf(digest)).toBe(project);
    const bundle = await fetchProjectBundle({ apiUrl, token: TOKEN, digest });
    const out = join(base, 'fetched');
    await unpackTree(bundle, out, LIMITS);
    expect(await digestTree(out, LIMITS)).toBe(digest);
  });

  it('answers 404 for a digest it does not know, or whose project is gone', async () => {
    const unknown = `sha256-${'e'.repeat(64)}`;
    await expect(
      fetchProjectBundle({ apiUrl, token: TOKEN, digest: unknown }),
    ).rejects.toMatchObject({ status: 404, serverMessage: `no project with digest ${unknown}` });
    const digest = await digests.digestOf(project);
    await rm(project, { recursive: true });
    await expect(fetchProjectBundle({ apiUrl, token: TOKEN, digest })).rejects.toMatchObject({
      status: 404,
    });
  });

  it('answers 400 for what is not a digest', async () => {
    const answer = await call('GET', '/internal/v1/projects/sha256-..', { authorization: bearer });
    expect(answer.status).toBe(400);
    expect(answer.error).toContain('64 lowercase hex digits');
  });
});

describe('access', () => {
  const routes = [
    ['GET', `/internal/v1/projects/sha256-${'e'.repeat(64)}`],
    ['PUT', '/internal/v1/runs/run-1/artifacts'],
  ] as const;

  it.each(routes)('%s %s is off (404) when no worker token is configured', async (method, path) => {
    deps.token = null;
    const answer = await call(method, path, { authorization: bearer });
    expect(answer.status).toBe(404);
    expect(answer.error).toContain('no worker token is configured');
  });

  it.each(routes)('%s %s needs the right bearer token (401)', async (method, path) => {
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`, TOKEN, 'Bearer ']) {
      const answer = await call(method, path, authorization === undefined ? {} : { authorization });
      expect(answer.status).toBe(401);
    }
    expect(existsSync(apiRoot)).toBe(false);
  });

  it('answers 404 for other internal paths, and leaves other paths to the server', async () => {
    expect((await call('GET', '/internal/v1/other', { authorization: bearer })).status).toBe(404);
    expect((await call('GET', '/api/runs', { authorization: bearer })).status).toBe(418);
    expect((await call('GET', '/internal/v10/x', { authorization: bearer })).status).toBe(418);
  });
});
