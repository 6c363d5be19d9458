import type { IncomingMessage } from 'node:http';

/** A request refused at the door, before any procedure runs. */
export class RequestRefusedError extends Error {
  readonly code = 'REQUEST_REFUSED';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.name = 'RequestRefusedError';
    this.status = status;
  }
}

/** The origin this server is reached at, from the Host header. */
function ownOrigins(req: IncomingMessage): string[] {
  const host = req.headers.host;
  return host ? [`http://${host}`, `https://${host}`] : [];
}

/**
 * A browser always sends Origin on a cross-site POST and on a WebSocket; one that is not this
 * server's (or an allowed one) is refused. Scripts send none and are judged by their credentials.
 */
export function checkOrigin(req: IncomingMessage, allowed: readonly string[]): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  if (ownOrigins(req).includes(origin) || allowed.includes(origin)) return;
  throw new RequestRefusedError(403, `origin ${origin} may not call this server`);
}

/**
 * Mutations come as JSON or multipart only: the content types an HTML form can send without
 * JavaScript (url-encoded, text/plain) are refused, so a form on another site cannot post here.
 */
export function checkMutationContentType(req: IncomingMessage): void {
  if (req.method !== 'POST') return;
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (
    type === 'application/json' ||
    type === 'multipart/form-data' ||
    type === 'application/octet-stream'
  )
    return;
  throw new RequestRefusedError(
    415,
    `content type ${JSON.stringify(type || 'none')} is refused; send application/json or multipart/form-data`,
  );
}
