import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AnyProcedure } from '@trpc/server';
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
import { addressKey, createClientAddressResolver } from './client-address.ts';
import { credentialProblem } from './credentials.ts';
import { anonymousIdentity, identify, sameSecret, type Identity } from './identity.ts';
import { serveWorkerFiles, type WorkerFilesDeps } from './http/worker-files.ts';
import { appRouter } from './router.ts';
import { REST_PATH, serveRest } from './rest/rest-handler.ts';
import { PISTON_PATH, servePiston } from './rest/piston/piston-handler.ts';
import type { Services } from './services.ts';
import type { Context, SocketState } from './trpc.ts';

export const TRPC_PATH = '/api/trpc';

/** The procedures that are subscriptions, by path: over HTTP they are held-open event streams. */
const SUBSCRIPTIONS: ReadonlySet<string> = new Set(
  // At run time tRPC keeps every procedure here by its dotted path (the type is the nested record).
  Object.entries(appRouter._def.procedures as unknown as Record<string, AnyProcedure>)
    .filter(([, procedure]) => procedure._def.type === 'subscription')
    .map(([path]) => path),
);

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

type IdentityOf = (
  req: IncomingMessage,
  connectionParams?: Record<string, string> | null,
) => Identity;

/** What is wrong with the credentials a request (or a WebSocket's connectionParams) sent. */
function credentialProblemOf(
  services: Services,
  req: IncomingMessage,
  connectionParams?: Record<string, string> | null,
): Error | null {
  return credentialProblem(
    {
      authorization: connectionParams?.authorization ?? req.headers.authorization,
      adminToken: connectionParams?.adminToken ?? headerValue(req.headers['x-runbox-admin-token']),
    },
    services.config,
  );
}

/** Who a request is, from its cookie, its credentials and its client address. */
function identityReader(services: Services): IdentityOf {
  const { config } = services;
  const clientAddress = createClientAddressResolver(config.trustProxy);
  return (req, connectionParams) =>
    identify(
      {
        cookieHeader: req.headers.cookie,
        authorization: connectionParams?.authorization ?? req.headers.authorization,
        adminTokenHeader:
          connectionParams?.adminToken ?? headerValue(req.headers['x-runbox-admin-token']),
        address: addressKey(
          clientAddress({
            remoteAddress: req.socket.remoteAddress,
            forwardedFor: req.headers['x-forwarded-for'],
          }),
        ),
      },
      {
        adminToken: config.adminToken,
        apiKeys: config.apiKeys,
        ownerCookies: services.ownerCookies,
        anonymous: config.anonymous,
      },
    );
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** /metrics: Prometheus text, for the metrics token or the admin token only. */
async function serveMetrics(
  services: Services,
  identity: Identity,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const bearer = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const token = services.config.metricsToken;
  const allowed =
    identity.isAdmin || (token !== null && bearer !== undefined && sameSecret(bearer, token));
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
  const identityOf = identityReader(services);

  // What one client holds open: WebSockets and event streams (subscriptions over HTTP), capped
  // together per client key (an API key's owner, the admin, or an anonymous client's address).
  const openPerClient = new Map<string, number>();
  const takeClientSlot = (clientKey: string): (() => void) | null => {
    const open = openPerClient.get(clientKey) ?? 0;
    if (open >= config.ws.maxSocketsPerClient) return null;
    openPerClient.set(clientKey, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (openPerClient.get(clientKey) ?? 1) - 1;
      if (left <= 0) openPerClient.delete(clientKey);
      else openPerClient.set(clientKey, left);
    };
  };

  const workerFiles: WorkerFilesDeps = {
    token: config.cluster?.workerToken ?? null,
    projects: services.projectDigests,
    artifactsRoot: services.paths.artifacts,
    acceptsArtifacts(runId) {
      try {
        return services.executor.get(runId).state === 'running';
      } catch {
        return false;
      }
    },
    uploadLimits: { maxFiles: 20_000, maxBytes: config.maximums.workspaceBytes },
  };

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
    if (url.pathname === '/metrics') return serveMetrics(services, identityOf(req), req, res);
    if (url.pathname === '/readyz') {
      const report = readiness(services);
      return sendJson(res, report.ready ? 200 : 503, report);
    }
    // Workers of the redis driver, with the worker token: project files out, run files in.
    if (await serveWorkerFiles(workerFiles, req, res)) return;

    // Every browser gets an anonymous owner the first time it comes, and a new one in place of a
    // cookie this server did not sign (made up, or tampered with): that one is never honoured.
    let identity = identityOf(req);
    if (
      identity.owner === null &&
      config.anonymous &&
      !req.headers.authorization &&
      !req.headers['x-runbox-admin-token']
    ) {
      const minted = services.ownerCookies.mint({
        secure: req.headers['x-forwarded-proto'] === 'https',
      });
      res.setHeader('set-cookie', minted.setCookie);
      identity = anonymousIdentity(minted.owner, identity.isAdmin, identity.address);
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
      // A subscription over HTTP is an event stream held open as long as a socket: it takes a
      // place of its client's like one, or an anonymous client could hold any number of them.
      if (req.method === 'GET' && path.split(',').some((name) => SUBSCRIPTIONS.has(name))) {
        const release = takeClientSlot(identity.clientKey);
        if (!release) {
          return sendJson(res, 429, {
            error: `a client may hold at most ${config.ws.maxSocketsPerClient} WebSockets and event streams at once`,
          });
        }
        res.once('close', release);
      }
      await nodeHTTPRequestHandler({
        router: appRouter,
        req,
        res,
        path,
        maxBodySize: config.uploadMaxBytes + 1024 * 1024,
        createContext: (): Context => ({
          services,
          identity,
          socket: null,
          credentialProblem: credentialProblemOf(services, req),
        }),
        onError: ({ error, path: procedure }) => {
          if (error.code === 'INTERNAL_SERVER_ERROR')
            console.error(`procedure ${procedure ?? '?'} failed`, error.cause ?? error);
        },
      });
      return;
    }

    // The REST surface (docs/rest.md): the same procedures as plain HTTP and JSON.
    if (url.pathname === REST_PATH || url.pathname.startsWith(`${REST_PATH}/`))
      return serveRest({ services, identity, takeClientSlot }, req, res);
    if (url.pathname.startsWith(`${PISTON_PATH}/`))
      return servePiston({ services, identity, takeClientSlot }, req, res);
    if (url.pathname.startsWith('/api/runs/')) {
      if (await serveArtifact(services, identity, req, res)) return;
    }
    if (url.pathname.startsWith('/api/'))
      return sendJson(res, 404, { error: `no such endpoint ${url.pathname}` });
    if (pages) return pages.handle(req, res);
    servePlainPage(req, res);
  }

  // WebSocket: one per browser tab; subscriptions are capped per socket, sockets per client.
  const wss = new WebSocketServer({ noServer: true, maxPayload: config.ws.maxMessageBytes });
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
      return {
        services,
        identity: identityOf(req, params),
        socket: state,
        credentialProblem: credentialProblemOf(services, req, params),
      };
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
    // Anonymous sockets count by address: a new cookie per socket gains nothing.
    const release = takeClientSlot(identityOf(req).clientKey);
    if (!release) {
      refuse(429, 'Too Many Requests');
      return;
    }
    // Taken before the handshake and given back when the connection closes, handshake failed or not.
    socket.once('close', release);
    wss.handleUpgrade(req, socket, head, (ws) => {
      services.metrics.socketOpened();
      ws.once('close', () => services.metrics.socketClosed());
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
