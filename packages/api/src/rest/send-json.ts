import type { ServerResponse } from 'node:http';

/** A REST answer: JSON (never sniffed, never cached), or no body at all when `body` is undefined. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  if (body === undefined) {
    res.writeHead(status, { 'cache-control': 'no-store', ...headers }).end();
    return;
  }
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      ...headers,
    })
    .end(JSON.stringify(body));
}
