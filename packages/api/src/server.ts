import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { nodeHTTPRequestHandler } from '@trpc/server/adapters/node-http';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { readiness } from './health.ts';
import { serveArtifact } from './http/artifact-download.ts';
import { servePlainPage } from './http/plain-page.ts';
import {
  checkMutationContentType,
  checkOrigin,
  RequestRefusedError,
} from './http/request-guards.ts';
import {
  identify,
  newOwnerId,
  sameSecret,
  ownerCookie,
  ownerFromCookie,
  type Identity,
} from './identity.ts';
import { appRouter } from './router.ts';
import type { Services } from './services.ts';
import type { Context, SocketState } from './trpc.ts';

export const TRPC_PATH = '/api/trpc';

export interface RunboxServer {
  server: Server;
  /** Tells every WebSocket client to reconnect (before a shutdown). */
  broadcastReconnect(): void;
  /** Closes the WebSocket server and the HTTP server, waiting at most `deadlineMs`. */
  close(deadlineMs: number): Promise<void>;
}

export interface PageHandler {
  handle(req: IncomingMessage, res: ServerResponse): void | Promise<void>;
  /** Upgrades on other paths (Next's hot reload in development). */
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

function identityOf(
  services: Services,
  req: IncomingMessage,
  connectionParams?: Record<string, string> | null,
): Identity {
  return identify(
    {
      cookieHeader: req.headers.cookie,
      authorization: connectionParams?.authorization ?? req.headers.authorization,
      adminTokenHeader:
        connectionParams?.adminToken ?? headerValue(req.headers['x-runbox-admin-token']),
      remoteAddress: req.socket.remoteAddress,
    },
    { adminToken: services.config.adminToken, apiKeys: services.config.apiKeys },
  );
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** /metrics: Prometheus text, for the metrics token or the admin token only. */
async function serveMetrics(
  services: Services,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const bearer = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = services.config.metricsToken;
  const allowed =
    identityOf(services, req).isAdmin ||
    (token !== null && bearer !== undefined && sameSecret(bearer, token));
  if (!allowed) {
    res
      .writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' })
      .end('metrics need a token\n');
    return;
  }
  res.writeHead(200, { 'content-type': services.metrics.registry.contentType });
  res.end(await services.metrics.registry.metrics());
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    .end(JSON.stringify(body));
}

/** One process, one port: pages, the tRPC HTTP handler, the tRPC WebSocket, health and downloads. */
export function createRunboxServer(services: Services, pages?: PageHandler): RunboxServer {
  const { config } = services;

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      services.log.error({ err: error, url: req.url }, 'request failed');
      if (!res.headersSent)
        sendJson(res, 500, { error: 'runbox failed to answer; the server log has the details' });
      else res.destroy();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (url.pathname === '/metrics') return serveMetrics(services, req, res);
    if (url.pathname === '/readyz') {
      const report = readiness(services);
      return sendJson(res, report.ready ? 200 : 503, report);
    }

    // Every browser gets an anonymous owner the first time it comes.
    if (
      ownerFromCookie(req.headers.cookie) === null &&
      !req.headers.authorization &&
      !req.headers['x-runbox-admin-token']
    ) {
      const owner = newOwnerId();
      res.setHeader('set-cookie', ownerCookie(owner, req.headers['x-forwarded-proto'] === 'https'));
      req.headers.cookie = `${req.headers.cookie ? `${req.headers.cookie}; ` : ''}runbox_owner=${owner}`;
    }

    if (url.pathname.startsWith(`${TRPC_PATH}/`) || url.pathname === TRPC_PATH) {
      try {
        checkOrigin(req, config.allowedOrigins);
        checkMutationContentType(req);
      } catch (error) {
        if (error instanceof RequestRefusedError)
          return sendJson(res, error.status, { error: error.message });
        throw error;
      }
      const path = url.pathname.slice(TRPC_PATH.length + 1);
      await nodeHTTPRequestHandler({
        router: appRouter,
        req,
        res,
        path,
        maxBodySize: config.uploadMaxBytes + 1024 * 1024,
        createContext: (): Context => ({
          services,
          identity: identityOf(services, req),
          socket: null,
        }),
        onError: ({ error, path: procedure }) => {
          if (error.code === 'INTERNAL_SERVER_ERROR')
            console.error(`procedure ${procedure ?? '?'} failed`, error.cause ?? error);
        },
      });
      return;
    }

    if (url.pathname.startsWith('/api/runs/')) {
      if (await serveArtifact(services, identityOf(services, req), req, res)) return;
    }
    if (url.pathname.startsWith('/api/'))
      return sendJson(res, 404, { error: `no such endpoint ${url.pathname}` });
    if (pages) return pages.handle(req, res);
    servePlainPage(req, res);
  }

  // WebSocket: one per browser tab; subscriptions are capped per socket, sockets per client.
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.ws.maxMessageBytes });
  const socketsPerClient = new Map<string, number>();
  const socketState = new WeakMap<WebSocket, SocketState>();
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
    createContext: ({ req, res, info }): Context => {
      let state = socketState.get(res);
      if (!state) {
        const socket = res;
        state = { subscriptions: 0, bufferedAmount: () => socket.bufferedAmount };
        socketState.set(res, state);
      }
      const params = info.connectionParams as Record<string, string> | null;
      return { services, identity: identityOf(services, req, params), socket: state };
    },
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== TRPC_PATH) {
      if (pages?.upgrade) pages.upgrade(req, socket, head);
      else socket.destroy();
      return;
    }
    const refuse = (status: number, message: string): void => {
      socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    try {
      checkOrigin(req, config.allowedOrigins);
    } catch {
      refuse(403, 'Forbidden');
      return;
    }
    const clientKey = identityOf(services, req).clientKey;
    const open = socketsPerClient.get(clientKey) ?? 0;
    if (open >= config.ws.maxSocketsPerClient) {
      refuse(429, 'Too Many Requests');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      socketsPerClient.set(clientKey, (socketsPerClient.get(clientKey) ?? 0) + 1);
      services.metrics.socketOpened();
      ws.once('close', () => {
        services.metrics.socketClosed();
        const left = (socketsPerClient.get(clientKey) ?? 1) - 1;
        if (left <= 0) socketsPerClient.delete(clientKey);
        else socketsPerClient.set(clientKey, left);
      });
      wss.emit('connection', ws, req);
    });
  });

  return {
    server,
    broadcastReconnect: () => handler.broadcastReconnectNotification(),
    async close(deadlineMs) {
      for (const client of wss.clients) client.terminate();
      wss.close();
      await Promise.race([
        new Promise<void>((resolve) => server.close(() => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref()),
      ]);
      server.closeAllConnections();
    },
  };
}
