import {
  createTRPCClient,
  createWSClient,
  httpLink,
  splitLink,
  TRPCClientError,
  wsLink,
  type TRPCClient,
} from '@trpc/client';
import WebSocket, { type ClientOptions } from 'ws';
import type { AppRouter } from '../../src/router.ts';
import { ADMIN_TOKEN } from './server.ts';

/** TEST SCAFFOLDING: typed clients for one owner (a cookie jar of one cookie) or the admin. */

export type Client = TRPCClient<AppRouter>;
export type ClientError = TRPCClientError<AppRouter>;

export interface TestClient {
  trpc: Client;
  /** The `runbox_owner=...` cookie this client sends, or null. */
  cookie: string | null;
  /** The WebSocket client behind the subscriptions (close it to drop the socket). */
  ws: ReturnType<typeof createWSClient>;
  /** Every raw socket this client opened, newest last. */
  sockets: WebSocket[];
  close(): Promise<void>;
}

/**
 * The owner cookie a browser gets on its first page: `/` answers with `set-cookie`
 * (`/healthz` and `/readyz` answer before the cookie is set).
 */
export async function newOwnerCookie(url: string): Promise<string> {
  const response = await fetch(`${url}/`);
  await response.arrayBuffer();
  const setCookie = response.headers.get('set-cookie');
  const cookie = setCookie?.split(';')[0];
  if (!cookie?.startsWith('runbox_owner=')) {
    throw new Error(`GET / set no runbox_owner cookie (set-cookie: ${String(setCookie)})`);
  }
  return cookie;
}

/** The owner id a `runbox_owner=<owner>.<signature>` cookie names. */
export function ownerIdOf(cookie: string | null): string {
  const owner = /^runbox_owner=([^.;]+)\./.exec(cookie ?? '')?.[1];
  if (!owner) throw new Error(`not a signed owner cookie: ${String(cookie)}`);
  return owner;
}

export interface ClientOptionsForTest {
  /** Sent as `cookie` over HTTP and on the WebSocket upgrade. Null: none. */
  cookie: string | null;
  /** Sent as `x-runbox-admin-token` over HTTP and as connectionParams.adminToken over ws. */
  adminToken?: string;
  /** Sent as `Authorization` over HTTP and connectionParams.authorization over ws. */
  authorization?: string;
  /** The Origin header; default the server's own, as a browser on its page sends. */
  origin?: string | null;
  /** Sent as `X-Forwarded-For` over HTTP and on the upgrade (a server trusting 127.0.0.1 takes it). */
  forwardedFor?: string;
}

/** A typed client: subscriptions over one WebSocket, everything else over plain HTTP. */
export function makeClient(url: string, options: ClientOptionsForTest): TestClient {
  const origin = options.origin === undefined ? url : options.origin;
  const headers: Record<string, string> = {};
  if (options.cookie) headers.cookie = options.cookie;
  if (origin) headers.origin = origin;
  if (options.adminToken) headers['x-runbox-admin-token'] = options.adminToken;
  if (options.authorization) headers.authorization = options.authorization;
  if (options.forwardedFor) headers['x-forwarded-for'] = options.forwardedFor;
  const upgradeHeaders: Record<string, string> = {};
  if (options.cookie) upgradeHeaders.cookie = options.cookie;
  if (origin) upgradeHeaders.origin = origin;
  if (options.forwardedFor) upgradeHeaders['x-forwarded-for'] = options.forwardedFor;

  const sockets: WebSocket[] = [];
  // ws takes headers as the third constructor argument; tRPC calls `new WebSocket(url)`.
  class BrowserLikeWebSocket extends WebSocket {
    constructor(address: string | URL, protocols?: string | string[], wsOptions?: ClientOptions) {
      super(address, protocols, { ...wsOptions, headers: upgradeHeaders });
      sockets.push(this);
    }
  }
  const connectionParams: Record<string, string> = {};
  if (options.adminToken) connectionParams.adminToken = options.adminToken;
  if (options.authorization) connectionParams.authorization = options.authorization;

  const wsClient = createWSClient({
    url: `${url.replace(/^http/, 'ws')}/api/trpc`,
    WebSocket: BrowserLikeWebSocket as unknown as typeof globalThis.WebSocket,
    // Open while a test's subscriptions come one after the other: closed at once (closeMs 0), a
    // subscription that started while the last one's socket was closing failed with tRPC's
    // "Active connection is not open" (seen under a loaded suite).
    lazy: { enabled: true, closeMs: 5_000 },
    retryDelayMs: () => 50,
    ...(Object.keys(connectionParams).length > 0 ? { connectionParams } : {}),
  });
  const trpc = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: wsClient }),
        false: httpLink({ url: `${url}/api/trpc`, headers }),
      }),
    ],
  });
  return {
    trpc,
    cookie: options.cookie,
    ws: wsClient,
    sockets,
    close: () => wsClient.close(),
  };
}

/**
 * A client for a new anonymous owner (a browser that loaded `/` once). With `forwardedFor` it
 * comes through a proxy from that address (the server must trust 127.0.0.1: RUNBOX_TRUST_PROXY).
 */
export async function ownerClient(
  url: string,
  options: { forwardedFor?: string } = {},
): Promise<TestClient> {
  return makeClient(url, { cookie: await newOwnerCookie(url), ...options });
}

export function adminClient(url: string): TestClient {
  return makeClient(url, { cookie: null, adminToken: ADMIN_TOKEN });
}

/** The error a promise rejects with, as a TRPCClientError (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<ClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof TRPCClientError) return error as ClientError;
    throw error;
  }
  throw new Error('expected the call to fail, and it succeeded');
}

/** The wire code of a client error: 'NOT_FOUND', 'BAD_REQUEST', ... */
export function codeOf(error: ClientError): string | undefined {
  return error.data?.code;
}

/** `data.runbox` of a client error: the structured details of a known error. */
export function runboxDetailsOf(error: ClientError): Record<string, string | number> | null {
  const data = error.data as { runbox?: Record<string, string | number> | null } | undefined;
  return data?.runbox ?? null;
}
