import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ServerResponse } from 'node:http';

/**
 * The API reference page at /api/v1/docs: Swagger UI (npm `swagger-ui-dist`, a prebuilt bundle
 * with no dependencies of its own worth naming) served from node_modules by runbox itself, never a
 * CDN, reading /api/v1/openapi.json. Its Content-Security-Policy lets the page load and call
 * nothing but this server. (Scalar's standalone bundle was the other candidate: 284 packages to
 * install for one file, and fonts, telemetry and a proxy on scalar.com to switch off.)
 */

export const DOCS_PATH = '/api/v1/docs';

/** The files the page loads, by the name it asks for, and their media types. */
const ASSETS: Readonly<Record<string, string>> = {
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui.css': 'text/css; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/** Our own start-up script (a file, so the policy needs no inline script). */
const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: '/api/v1/openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  validatorUrl: null,
  withCredentials: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: 'BaseLayout',
});
`;

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>runbox REST API</title>
    <link rel="stylesheet" href="${DOCS_PATH}/swagger-ui.css" />
    <link rel="icon" type="image/png" href="${DOCS_PATH}/favicon-32x32.png" />
  </head>
  <body>
    <div id="reference"></div>
    <script src="${DOCS_PATH}/swagger-ui-bundle.js"></script>
    <script src="${DOCS_PATH}/init.js"></script>
  </body>
</html>
`;

const POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  // Swagger UI sets style attributes on its elements.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const assetsDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const cache = new Map<string, Buffer>();

export function serveDocsPage(res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': POLICY,
    'x-content-type-options': 'nosniff',
  });
  res.end(PAGE);
}

/** One of the page's files; false when there is no such file. */
export async function serveDocsAsset(name: string, res: ServerResponse): Promise<boolean> {
  if (name === 'init.js') {
    res.writeHead(200, {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    res.end(INIT_SCRIPT);
    return true;
  }
  const type = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
  if (type === undefined) return false;
  let bytes = cache.get(name);
  if (!bytes) {
    bytes = await readFile(join(assetsDir, name));
    cache.set(name, bytes);
  }
  res.writeHead(200, {
    'content-type': type,
    'content-length': String(bytes.length),
    // The package's version is in the lock file: a day's cache is safe.
    'cache-control': 'public, max-age=86400',
    'x-content-type-options': 'nosniff',
  });
  res.end(bytes);
  return true;
}
