import type { IncomingMessage, ServerResponse } from 'node:http';

/** The page served when no web app is built (RUNBOX_WEB=none): it names runbox and its API. */
export function servePlainPage(_req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'x-content-type-options': 'nosniff',
  });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>runbox</title></head>
<body><h1>runbox</h1><p>A sandbox for untrusted code. The API is at <code>/api/trpc</code>;
health at <a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a>.</p></body></html>`);
}
