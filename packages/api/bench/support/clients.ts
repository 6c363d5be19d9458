import {
  createTRPCClient,
  createWSClient,
  httpLink,
  wsLink,
  type TRPCClient,
  type TRPCWebSocketClient,
} from '@trpc/client';
import { WebSocket as WsSocket, type RawData } from 'ws';
import type { AppRouter } from '../../src/router.ts';

export type ApiClient = TRPCClient<AppRouter>;

/** Messages and bytes a socket received (frame payloads, as the application sees them). */
export interface WireCounter {
  messages: number;
  bytes: number;
}

export function newCounter(): WireCounter {
  return { messages: 0, bytes: 0 };
}

export function rawDataBytes(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, part) => sum + part.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

/**
 * The `ws` package's client for tRPC (tRPC calls `new WebSocket(url)`): no Origin header, no
 * compression, and optionally a count of what arrives.
 */
function socketClass(counter: WireCounter | null): typeof globalThis.WebSocket {
  class BenchSocket extends WsSocket {
    constructor(url: string) {
      super(url, { perMessageDeflate: false });
      if (counter) {
        this.on('message', (data: RawData) => {
          counter.messages++;
          counter.bytes += rawDataBytes(data);
        });
      }
    }
  }
  // The `ws` client implements the browser API tRPC uses (addEventListener, readyState, send).
  return BenchSocket as unknown as typeof globalThis.WebSocket;
}

/** Queries and mutations over HTTP with the admin token (exempt from the rate limits). */
export function httpClient(trpcUrl: string, token: string): ApiClient {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: trpcUrl, headers: { 'x-runbox-admin-token': token } })],
  });
}

export interface SocketClient {
  api: ApiClient;
  socket: TRPCWebSocketClient;
  close(): Promise<void>;
}

/** One WebSocket, identified by the admin token in the connection parameters. */
export function socketClient(
  wsUrl: string,
  token: string,
  counter: WireCounter | null = null,
): SocketClient {
  const socket = createWSClient({
    url: wsUrl,
    WebSocket: socketClass(counter),
    connectionParams: { adminToken: token },
    // A bench socket that drops is a failure to report, not something to retry for long.
    retryDelayMs: () => 200,
  });
  const api = createTRPCClient<AppRouter>({ links: [wsLink({ client: socket })] });
  return { api, socket, close: () => socket.close() };
}
