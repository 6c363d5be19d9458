import type { IncomingMessage } from 'node:http';
import { badInput, RestRequestError } from './rest-errors.ts';

/** Largest JSON body: a snippet of 1,000,000 characters and 1 MiB of stdin, escaped, fit. */
export const MAX_JSON_BODY_BYTES = 8 * 1024 * 1024;

/** Past this many bytes of a body that is already too large, the connection is cut. */
const DISCARD_FACTOR = 4;

function mediaType(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

function tooLarge(maxBytes: number): RestRequestError {
  return new RestRequestError({
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: `the body is larger than ${maxBytes} bytes`,
    field: 'body',
    rule: 'max-bytes',
    limit: maxBytes,
  });
}

/**
 * The whole body, at most `maxBytes`. A larger one is read on (and dropped) up to a few times the
 * cap so the client can read the 413 instead of a reset connection, then the connection is cut.
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxBytes * DISCARD_FACTOR) {
    req.destroy();
    throw tooLarge(maxBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes * DISCARD_FACTOR) {
      req.destroy();
      throw tooLarge(maxBytes);
    }
    if (size <= maxBytes) chunks.push(chunk);
  }
  if (size > maxBytes) throw tooLarge(maxBytes);
  return Buffer.concat(chunks);
}

function unsupported(type: string, expected: string): RestRequestError {
  return new RestRequestError({
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: `content type ${JSON.stringify(type || 'none')} is refused; send ${expected}`,
    field: 'content-type',
    rule: 'media-type',
  });
}

/**
 * A JSON body, or undefined when there is none. Media types an HTML form can send without
 * JavaScript are refused even when empty, so a form on another site cannot call here.
 */
export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const type = mediaType(req);
  if (!hasBody(req)) {
    if (type === '' || type === 'application/json') return undefined;
    throw unsupported(type, 'application/json');
  }
  if (type !== 'application/json') throw unsupported(type, 'application/json');
  const bytes = await readBody(req, MAX_JSON_BODY_BYTES);
  const text = bytes.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badInput('body', 'json', `is not valid JSON (${(error as Error).message})`);
  }
}

/** A multipart/form-data body as FormData, at most `maxBytes`. */
export async function readFormBody(req: IncomingMessage, maxBytes: number): Promise<FormData> {
  const type = mediaType(req);
  if (type !== 'multipart/form-data') throw unsupported(type, 'multipart/form-data');
  const bytes = await readBody(req, maxBytes);
  try {
    return await new Request('http://runbox.invalid/', {
      method: 'POST',
      headers: { 'content-type': String(req.headers['content-type']) },
      // A copy typed as its own ArrayBuffer: the web app type-checks this file with the DOM's BodyInit.
      body: new Uint8Array(bytes),
    }).formData();
  } catch {
    throw badInput('body', 'multipart', 'is not valid multipart/form-data (or lacks its boundary)');
  }
}
