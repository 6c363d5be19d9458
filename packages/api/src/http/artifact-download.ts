import type { IncomingMessage, ServerResponse } from 'node:http';
import { openArtifact } from '@runbox/executor';
import type { Identity } from '../identity.ts';
import type { Services } from '../services.ts';

const ROUTE = /^\/api\/runs\/([A-Za-z0-9_-]{1,64})\/artifacts\/(.+)$/;

/**
 * GET /api/runs/<id>/artifacts/<path>: a file a run made, for its owner or an admin. Always as a
 * download, never rendered: a run's HTML served inline on runbox's own origin would be an XSS.
 */
export async function serveArtifact(
  services: Services,
  identity: Identity,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const match = ROUTE.exec(url.pathname);
  if (!match || req.method !== 'GET') return false;
  const [, runId = '', encodedPath = ''] = match;
  const run = services.store.getRun(runId);
  const fail = (status: number, message: string): true => {
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify({ error: message }));
    return true;
  };
  if (!run || (!identity.isAdmin && run.owner !== identity.owner))
    return fail(404, `no run ${runId}`);
  let path: string;
  try {
    path = decodeURIComponent(encodedPath);
  } catch {
    return fail(400, 'the artifact path is not valid percent-encoding');
  }
  try {
    const artifact = await openArtifact(services.paths.artifacts, runId, path);
    const name = path.split('/').at(-1) ?? 'artifact';
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-length': String(artifact.size),
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
      'x-content-type-options': 'nosniff',
      'content-security-policy': "sandbox; default-src 'none'",
      'x-runbox-sha256': artifact.sha256 ?? '',
    });
    artifact.stream.pipe(res);
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : '';
    if (code === 'ARTIFACT_NOT_FOUND' || code === 'INVALID_ARTIFACT_PATH')
      return fail(404, `no artifact ${path}`);
    throw error;
  }
  return true;
}
