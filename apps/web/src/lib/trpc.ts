'use client';
import type { AppRouter, RunboxErrorCode, RunboxErrorDetails } from '@runbox/api';
import {
  createTRPCClient,
  createWSClient,
  httpBatchLink,
  httpLink,
  isNonJsonSerializable,
  splitLink,
  wsLink,
  type TRPCClient,
} from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';

export const TRPC_URL = '/api/trpc';

/** The user's tRPC context (owner cookie) and the admin's (token), kept apart. */
export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();
export const {
  TRPCProvider: AdminTRPCProvider,
  useTRPC: useAdminTRPC,
  useTRPCClient: useAdminTRPCClient,
} = createTRPCContext<AppRouter>();

export type SocketState = 'connecting' | 'open' | 'reconnecting';

/** A tiny store of one socket's state, read with useSyncExternalStore. */
export class SocketStatus {
  private state: SocketState = 'connecting';
  private everOpened = false;
  private readonly listeners = new Set<() => void>();
  get = (): SocketState => this.state;
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
  opened(): void {
    this.everOpened = true;
    this.set('open');
  }
  closed(): void {
    this.set(this.everOpened ? 'reconnecting' : 'connecting');
  }
  private set(next: SocketState): void {
    if (next === this.state) return;
    this.state = next;
    for (const listener of this.listeners) listener();
  }
}

function socketUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}${TRPC_URL}`;
}

export interface RunboxClient {
  client: TRPCClient<AppRouter>;
  status: SocketStatus;
  close(): void;
}

/**
 * Subscriptions over one WebSocket (it resumes tracked subscriptions with lastEventId on its
 * own), queries and mutations batched over HTTP, FormData uploads over a non-batching httpLink.
 */
export function createRunboxClient(adminToken?: string): RunboxClient {
  const status = new SocketStatus();
  const headers = (): Record<string, string> =>
    adminToken ? { 'x-runbox-admin-token': adminToken } : {};
  if (typeof window === 'undefined') {
    // Server render: nothing is fetched there; a client that is never called.
    const client = createTRPCClient<AppRouter>({
      links: [httpBatchLink({ url: `http://localhost${TRPC_URL}` })],
    });
    return { client, status, close: () => {} };
  }
  const ws = createWSClient({
    url: socketUrl,
    connectionParams: adminToken ? { adminToken } : null,
    retryDelayMs: (attempt) => Math.min(500 * 2 ** attempt, 5_000),
    keepAlive: { enabled: true, intervalMs: 5_000, pongTimeoutMs: 3_000 },
    onOpen: () => status.opened(),
    onClose: () => status.closed(),
  });
  const client = createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: wsLink({ client: ws }),
        false: splitLink({
          condition: (op) => isNonJsonSerializable(op.input),
          true: httpLink({ url: TRPC_URL, headers }),
          false: httpBatchLink({ url: TRPC_URL, headers, maxURLLength: 4000 }),
        }),
      }),
    ],
  });
  // Fire-and-forget: tRPC's close never rejects, and an unmount has nothing to wait for.
  return { client, status, close: () => void ws.close() };
}

/** The structured part of a runbox error (`data.runbox`), as the server declares it. */
export type { RunboxErrorCode, RunboxErrorDetails };

export function errorDetails(error: unknown): RunboxErrorDetails | null {
  if (!error || typeof error !== 'object') return null;
  const data = (error as { data?: { runbox?: RunboxErrorDetails | null } }).data;
  return data?.runbox ?? null;
}

export function errorMessage(error: unknown): string {
  if (!error) return '';
  const details = errorDetails(error);
  const base = error instanceof Error ? error.message : String(error);
  if (!details) return base;
  const extras: string[] = [];
  if (details.rule) extras.push(`rule: ${details.rule}`);
  if (details.entry) extras.push(`entry: ${details.entry}`);
  if (details.retryAfterMs) extras.push(`try again in ${Math.ceil(details.retryAfterMs / 1000)} s`);
  return extras.length ? `${base} (${extras.join(', ')})` : base;
}

let tabClient: RunboxClient | null = null;

/**
 * The tab's own client, made once for the tab's lifetime. Its socket opens when it is made, and
 * React may call a state initializer several times before a render commits (a slow or
 * interrupted hydration): a client per call left sockets open until the server's per-client cap
 * refused every new one and the pages stopped updating.
 */
export function tabRunboxClient(): RunboxClient {
  if (typeof window === 'undefined') return createRunboxClient();
  tabClient ??= createRunboxClient();
  return tabClient;
}
