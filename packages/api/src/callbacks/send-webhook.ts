import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { literalAddress, type AddressPolicy, type RefusedClass } from './address-policy.ts';

/** How an attempt went, before any decision about retrying. */
export type SendResult =
  | { kind: 'answered'; address: string; status: number; retryAfter: string | undefined }
  /** The name resolved to (or the URL named) an address the policy forbids: nothing was sent. */
  | { kind: 'refused'; address: string; refused: RefusedClass }
  /** No answer: the name did not resolve, the connection failed, the time ran out. */
  | { kind: 'error'; address: string | null; message: string };

export interface SendOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  policy: AddressPolicy;
  /** The whole attempt: resolving, connecting, sending, reading the answer. */
  timeoutMs: number;
  /** The answer's body is read (and dropped) up to this many bytes, then the connection closes. */
  maxResponseBytes: number;
  /** Aborts the attempt (the server is stopping). */
  signal: AbortSignal;
}

export type ResolvedAddress = { address: string; family: 4 | 6 };

/** Every address of a name, in the resolver's order. */
async function resolveAll(hostname: string): Promise<ResolvedAddress[]> {
  const found = await dnsLookup(hostname, { all: true, order: 'verbatim' });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
}

/**
 * Resolves the host anew (every attempt: a name may change), refuses when any of its addresses
 * is forbidden (a name that also resolves to a private address is not a public receiver), and
 * connects to the first address, the one that was checked: the request's `lookup` hands that
 * address to the socket instead of resolving again, so a second answer from DNS (rebinding)
 * cannot change where the request goes. TLS still checks the certificate against the name (SNI
 * and the Host header keep the name). Redirects are not followed: a 3xx is an answer like any
 * other non-2xx.
 */
export async function sendWebhook(options: SendOptions): Promise<SendResult> {
  const url = new URL(options.url);
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = AbortSignal.any([options.signal, deadline]);
  const timedOut = (): string => `no answer within ${options.timeoutMs} ms`;

  let target: ResolvedAddress;
  const literal = literalAddress(url.hostname);
  if (literal !== null) {
    target = { address: literal, family: literal.includes(':') ? 6 : 4 };
    const refused = options.policy.refusal(literal);
    if (refused) return { kind: 'refused', address: literal, refused };
  } else {
    let addresses: ResolvedAddress[];
    try {
      addresses = await raceAbort(resolveAll(url.hostname), signal);
    } catch (error) {
      const message = deadline.aborted ? timedOut() : describe(error);
      return { kind: 'error', address: null, message: `${url.hostname}: ${message}` };
    }
    for (const entry of addresses) {
      const refused = options.policy.refusal(entry.address);
      if (refused) return { kind: 'refused', address: entry.address, refused };
    }
    const first = addresses[0];
    if (!first) return { kind: 'error', address: null, message: `${url.hostname}: no address` };
    target = first;
  }

  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [target]);
    else callback(null, target.address, target.family);
  };
  const requestOptions: RequestOptions = {
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    headers: { ...options.headers, 'content-length': String(Buffer.byteLength(options.body)) },
    lookup: pinned,
    // A fresh connection each attempt: a pooled socket would skip the address check.
    agent: false,
    signal,
  };
  try {
    const response = await post(
      url.protocol === 'https:' ? httpsRequest : httpRequest,
      requestOptions,
      options.body,
      options.maxResponseBytes,
    );
    return { kind: 'answered', address: target.address, ...response };
  } catch (error) {
    const message = deadline.aborted ? timedOut() : describe(error);
    return { kind: 'error', address: target.address, message };
  }
}

function post(
  request: typeof httpRequest,
  options: RequestOptions,
  body: string,
  maxResponseBytes: number,
): Promise<{ status: number; retryAfter: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(options, (response: IncomingMessage) => {
      const answer = {
        status: response.statusCode ?? 0,
        retryAfter: headerText(response.headers['retry-after']),
      };
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        // Enough: the status is what counts, and a receiver must not make runbox read forever.
        if (read > maxResponseBytes) {
          response.destroy();
          resolve(answer);
        }
      });
      response.on('end', () => resolve(answer));
      response.on('error', reject);
      response.on('close', () => resolve(answer));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' ? `${error.code}: ` : '';
    return `${code}${error.message}`;
  }
  return String(error);
}

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
