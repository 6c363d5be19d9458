import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { packTree, unpackTree } from './tree-bundle.ts';
import {
  digestTree,
  InvalidDigestError,
  UnsupportedEntryError,
  type TreeLimits,
} from './tree-digest.ts';
import {
  fetchProjectBundle,
  InvalidRunIdError,
  uploadArtifacts,
  WorkerFilesRequestError,
} from './worker-files-client.ts';

const LIMITS: TreeLimits = { maxFiles: 100, maxBytes: 50_000_000 };
const TOKEN = 'worker-secret';
let base: string;
let tree: string;
let server: Server;
let apiUrl: string;
let seen: { method: string; url: string; authorization: string; contentType: string }[];
/** What the stand-in API does with each request. */
let answer: (req: IncomingMessage, res: ServerResponse) => Promise<void>;

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'runbox-client-'));
  tree = join(base, 'tree');
  await mkdir(join(tree, 'files'), { recursive: true });
  await writeFile(join(tree, 'manifest.json'), '{"artifacts":[]}');
  await writeFile(join(tree, 'files', 'out.txt'), 'hello\n');
  seen = [];
  answer = async (_req, res) => {
    res.writeHead(500).end();
  };
  server = createServer((req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      authorization: req.headers.authorization ?? '',
      contentType: req.headers['content-type'] ?? '',
    });
    answer(req, res).catch((error: unknown) => {
      res.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(base, { recursive: true, force: true });
});

const json = (res: ServerResponse, status: number, body: object): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

describe('fetchProjectBundle', () => {
  it('GETs the project by digest with the token and returns its bundle', async () => {
    const digest = await digestTree(tree, LIMITS);
    answer = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-tar' });
      await pipeline(packTree(tree), res);
    };
    const bundle = await fetchProjectBundle({ apiUrl: `${apiUrl}/`, token: TOKEN, digest });
    await unpackTree(bundle, join(base, 'out'), LIMITS);
    expect(await digestTree(join(base, 'out'), LIMITS)).toBe(digest);
    expect(seen).toEqual([
      {
        method: 'GET',
        url: `/internal/v1/projects/${digest}`,
        authorization: `Bearer ${TOKEN}`,
        contentType: '',
      },
    ]);
  });

  it('throws the status and the JSON error of a refusal', async () => {
    answer = async (_req, res) => json(res, 404, { error: 'no project with digest x' });
    const digest = `sha256-${'b'.repeat(64)}`;
    const error = await fetchProjectBundle({ apiUrl, token: TOKEN, digest }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(WorkerFilesRequestError);
    expect(error).toMatchObject({ status: 404, serverMessage: 'no project with digest x' });
    expect((error as Error).message).toBe(
      `GET /internal/v1/projects/${digest} answered 404: no project with digest x`,
    );
    expect((error as Error).message).not.toContain(TOKEN);
  });

  it('reports a body that is not JSON as it came', async () => {
    answer = async (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/plain' }).end('bad gateway\n');
    };
    await expect(
      fetchProjectBundle({ apiUrl, token: TOKEN, digest: `sha256-${'c'.repeat(64)}` }),
    ).rejects.toMatchObject({ status: 502, serverMessage: 'bad gateway' });
  });

  it('refuses a digest that is not one before any request', async () => {
    await expect(
      fetchProjectBundle({ apiUrl, token: TOKEN, digest: '../../etc/passwd' }),
    ).rejects.toBeInstanceOf(InvalidDigestError);
    expect(seen).toEqual([]);
  });
});

describe('uploadArtifacts', () => {
  it('PUTs the directory as a tar the other side unpacks whole', async () => {
    answer = async (req, res) => {
      const stored = await unpackTree(req, join(base, 'received'), LIMITS);
      json(res, 201, stored);
    };
    await uploadArtifacts({
      apiUrl: `${apiUrl}/prefix`,
      token: TOKEN,
      runId: 'run_1-a',
      dir: tree,
    });
    expect(await digestTree(join(base, 'received'), LIMITS)).toBe(await digestTree(tree, LIMITS));
    expect(seen).toEqual([
      {
        method: 'PUT',
        url: '/prefix/internal/v1/runs/run_1-a/artifacts',
        authorization: `Bearer ${TOKEN}`,
        contentType: 'application/x-tar',
      },
    ]);
  });

  it('reports a refusal sent before the body was read, not the broken pipe after it', async () => {
    await writeFile(join(tree, 'files', 'big.bin'), Buffer.alloc(20_000_000, 1));
    answer = async (_req, res) => json(res, 413, { error: 'past maxBytes=1000' });
    const error = await uploadArtifacts({ apiUrl, token: TOKEN, runId: 'r1', dir: tree }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(WorkerFilesRequestError);
    expect(error).toMatchObject({ status: 413, serverMessage: 'past maxBytes=1000' });
  });

  it('throws why the directory could not be packed', async () => {
    await symlink('/etc/passwd', join(tree, 'files', 'leak'));
    answer = async (req, res) => {
      await unpackTree(req, join(base, 'received'), LIMITS).then(
        () => json(res, 201, {}),
        () => json(res, 400, { error: 'bad bundle' }),
      );
    };
    const error = await uploadArtifacts({ apiUrl, token: TOKEN, runId: 'r1', dir: tree }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(UnsupportedEntryError);
    expect(error).toMatchObject({ path: 'files/leak' });
  });

  it('refuses a run id that is not one before any request', async () => {
    await expect(
      uploadArtifacts({ apiUrl, token: TOKEN, runId: '../x', dir: tree }),
    ).rejects.toBeInstanceOf(InvalidRunIdError);
    expect(seen).toEqual([]);
  });
});
