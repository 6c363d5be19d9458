/**
 * The host side of a dependency install's network: an HTTP proxy on a Unix socket that lets
 * through only the package registries the operator allows. The install runs in its own network
 * namespace with nothing but loopback; a forwarder inside the sandbox passes each TCP connection
 * of pip or npm (`--proxy http://127.0.0.1:PORT`) unchanged to this socket, bound into the
 * sandbox. So this is the one door out, and it opens only to names on the list:
 *
 * - `CONNECT host:port` (https): a TCP tunnel to exactly that host and port, when an https
 *   origin on the list has them. The TLS inside is the client's own, end to end with the
 *   registry; the proxy never sees it.
 * - `GET|HEAD http://host:port/path` (absolute form, plain http registries such as a local
 *   mirror): forwarded to that origin, when an http origin on the list has it.
 *
 * Everything else is refused with a short text a person reading pip's or npm's error can act on.
 * Names are matched as the client sent them, never resolved, and the proxy connects to the very
 * name it matched; redirects are passed back, not followed (the client follows them through the
 * proxy again, and is checked again).
 */
import { chmod, lstat, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  STATUS_CODES,
  type ClientRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { pipeline } from 'node:stream';
import {
  describeAllowed,
  formatAuthority,
  isAllowedOrigin,
  parseAuthority,
  type AllowedOrigin,
  type Authority,
} from './egress-allowlist.ts';

/** One request the proxy decided on, allowed or not. */
export interface EgressLogEntry {
  method: string;
  /** `host:port` for CONNECT, the URL as sent for a forwarded request. */
  target: string;
  allowed: boolean;
  /** Why it was refused. */
  reason?: string;
}

export interface EgressProxyOptions {
  /** Where to listen; a stale socket there (nobody listening) is replaced. */
  socketPath: string;
  allow: readonly AllowedOrigin[];
  /** Mode of the socket file: the sandbox's unprivileged uid must be able to connect. */
  socketMode?: number;
  /** Called for every entry added to the log; a throw here is reported as a warning only. */
  onRequest?: (entry: EgressLogEntry) => void;
  /** Client connections open at once; more are answered 503. */
  maxConnections?: number;
  /** A connection (client or upstream) with no traffic this long is closed. */
  idleTimeoutMs?: number;
}

export interface EgressProxy {
  readonly socketPath: string;
  readonly log: readonly EgressLogEntry[];
  /** Stops listening, ends every open connection and tunnel, removes the socket file. */
  close(): Promise<void>;
}

/** The proxy could not start: its socket path is taken or not a socket. */
export class EgressProxyError extends Error {
  readonly code = 'EGRESS_PROXY';
  readonly socketPath: string;
  constructor(socketPath: string, problem: string) {
    super(`egress proxy socket ${socketPath}: ${problem}`);
    this.name = 'EgressProxyError';
    this.socketPath = socketPath;
  }
}

export const DEFAULT_EGRESS_SOCKET_MODE = 0o666;
export const DEFAULT_EGRESS_MAX_CONNECTIONS = 32;
export const DEFAULT_EGRESS_IDLE_TIMEOUT_MS = 60_000;
/** An over-limit connection gets this long to send its request and read the 503. */
const OVER_LIMIT_GRACE_MS = 2_000;

/** Request headers that describe one hop, not the request (RFC 9110 7.6.1), and Host. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  // A 100-continue is between the client and this proxy; the upstream gets no body anyway.
  'expect',
]);

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const socketPath = options.socketPath;
  const allow = [...options.allow];
  const maxConnections = options.maxConnections ?? DEFAULT_EGRESS_MAX_CONNECTIONS;
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_EGRESS_IDLE_TIMEOUT_MS;
  const log: EgressLogEntry[] = [];
  const clients = new Set<Socket>();
  const overLimit = new WeakSet<Duplex>();
  const upstreams = new Set<Socket | ClientRequest>();
  let counted = 0;

  function record(entry: EgressLogEntry): void {
    log.push(entry);
    try {
      options.onRequest?.(entry);
    } catch (error) {
      // A logging callback must not take the install's network down with it.
      process.emitWarning(`egress proxy onRequest threw: ${String(error)}`);
    }
  }

  function refusedText(target: string, reason: string): string {
    return `runbox: egress to ${target} refused: ${reason}\n`;
  }

  function notAllowedReason(): string {
    return `not an allowed package registry (allowed: ${describeAllowed(allow)})`;
  }

  const server: Server = createServer({
    // The proxy sets Host for the origin itself; CONNECT from older clients carries none.
    requireHostHeader: false,
    // A request asking for an Upgrade is served as a plain request (its Upgrade header is a
    // hop-by-hop one and is dropped): CONNECT is the only way to a raw byte stream.
    shouldUpgradeCallback: () => false,
  });
  // Node's own idle timer on every client socket until it turns into a tunnel (then ours).
  server.timeout = idleTimeoutMs;

  server.on('connection', (socket: Socket) => {
    clients.add(socket);
    socket.once('close', () => clients.delete(socket));
    if (counted >= maxConnections) {
      // Answered with 503 once its request is read (answering before would race the parser).
      overLimit.add(socket);
      socket.setTimeout(OVER_LIMIT_GRACE_MS);
      return;
    }
    counted += 1;
    socket.once('close', () => {
      counted -= 1;
    });
  });

  function busyText(): string {
    return `runbox: egress proxy busy: more than ${maxConnections} connections at once\n`;
  }

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? '';
    const target = req.url ?? '';
    if (overLimit.has(req.socket)) {
      record({ method, target, allowed: false, reason: 'too many connections' });
      sendText(res, 503, busyText());
      return;
    }
    const decision = decideForward(method, target);
    if (decision.kind === 'refuse') {
      record({ method, target, allowed: false, reason: decision.reason });
      sendText(res, decision.status, refusedText(target, decision.reason));
      return;
    }
    record({ method, target, allowed: true });
    forward(req, res, decision.authority, decision.path);
  });

  type Decision =
    | { kind: 'refuse'; status: 400 | 403; reason: string }
    | { kind: 'forward'; authority: Authority; path: string };

  function decideForward(method: string, target: string): Decision {
    if (target.startsWith('/') || target === '*')
      return {
        kind: 'refuse',
        status: 403,
        reason: 'not a proxy request (expected CONNECT host:port or an absolute http:// URL)',
      };
    const match = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([/?][^#]*)?$/.exec(target);
    if (!match) return { kind: 'refuse', status: 400, reason: 'malformed request target' };
    const scheme = (match[1] ?? '').toLowerCase();
    const rawAuthority = match[2] ?? '';
    const rest = match[3] ?? '/';
    if (scheme === 'https')
      return { kind: 'refuse', status: 403, reason: 'https goes through CONNECT, not as a URL' };
    if (scheme !== 'http')
      return { kind: 'refuse', status: 403, reason: `scheme ${scheme} is not proxied` };
    if (rawAuthority.includes('@'))
      return { kind: 'refuse', status: 403, reason: 'credentials in the URL are not forwarded' };
    const authority = parseAuthority(rawAuthority, 80);
    if (!authority) return { kind: 'refuse', status: 400, reason: 'malformed host or port' };
    if (method !== 'GET' && method !== 'HEAD')
      return { kind: 'refuse', status: 403, reason: `method ${method} is not allowed (GET, HEAD)` };
    if (!isAllowedOrigin(allow, 'http', authority))
      return { kind: 'refuse', status: 403, reason: notAllowedReason() };
    return { kind: 'forward', authority, path: rest.startsWith('?') ? `/${rest}` : rest };
  }

  function forward(
    req: IncomingMessage,
    res: ServerResponse,
    authority: Authority,
    path: string,
  ): void {
    const target = req.url ?? '';
    // A registry read has no body; one announced on GET/HEAD is a smuggling attempt or a bug.
    const length = req.headers['content-length'];
    if (
      req.headers['transfer-encoding'] !== undefined ||
      (length !== undefined && length !== '0')
    ) {
      sendText(res, 400, refusedText(target, 'a GET or HEAD with a body'));
      return;
    }
    // Host names the origin as a direct client would: no port when it is http's own.
    const hostHeader = formatAuthority(authority).replace(/:80$/, '');
    const upstream = httpRequest({
      host: authority.host,
      port: authority.port,
      method: req.method,
      path,
      headers: [...forwardedHeaders(req.rawHeaders), 'Host', hostHeader],
      // One connection per request: nothing pooled outlives the client that caused it.
      agent: false,
      setHost: false,
    });
    upstreams.add(upstream);
    upstream.once('close', () => upstreams.delete(upstream));
    upstream.setTimeout(idleTimeoutMs, () => upstream.destroy(new UpstreamTimeout()));
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    // While a request is out, the upstream's idle timer decides (a stalled client stalls the
    // upstream too, through back-pressure); the client's would cut a slow answer off unexplained.
    res.on('timeout', () => {});
    upstream.once('error', (error) => {
      if (res.destroyed || res.writableEnded) return;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const status = error instanceof UpstreamTimeout ? 504 : 502;
      sendText(res, status, `runbox: egress to ${target} failed: ${describeError(error)}\n`);
    });
    upstream.once('response', (answer) => {
      res.writeHead(
        answer.statusCode ?? 502,
        answer.statusMessage,
        forwardedHeaders(answer.rawHeaders),
      );
      pipeline(answer, res, () => {
        // Either side gone: the other is destroyed by pipeline; nothing more to tell anyone.
      });
    });
    req.resume();
    upstream.end();
  }

  server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const client = socket as Socket;
    const method = req.method ?? 'CONNECT';
    const target = req.url ?? '';
    // From here the socket is ours alone: Node dropped its error and timeout handlers.
    client.on('error', () => client.destroy());
    client.setTimeout(idleTimeoutMs, () => client.destroy());
    if (overLimit.has(client)) {
      record({ method, target, allowed: false, reason: 'too many connections' });
      endRaw(client, 503, busyText());
      return;
    }
    const authority = parseAuthority(target);
    if (!authority) {
      const reason = 'malformed CONNECT target (expected host:port)';
      record({ method, target, allowed: false, reason });
      endRaw(client, 400, refusedText(target, reason));
      return;
    }
    if (!isAllowedOrigin(allow, 'https', authority)) {
      const reason = notAllowedReason();
      record({ method, target, allowed: false, reason });
      endRaw(client, 403, refusedText(target, reason));
      return;
    }
    record({ method, target, allowed: true });
    tunnel(client, authority, target, head);
  });

  function tunnel(client: Socket, authority: Authority, target: string, head: Buffer): void {
    const upstream = connect({ host: authority.host, port: authority.port });
    upstreams.add(upstream);
    let established = false;
    upstream.setTimeout(idleTimeoutMs, () => upstream.destroy(new UpstreamTimeout()));
    upstream.once('close', () => {
      upstreams.delete(upstream);
      // Whatever the upstream sent is already queued on the client; end, don't cut it off.
      if (established) client.end();
    });
    client.once('close', () => {
      if (established) upstream.end();
      else upstream.destroy();
    });
    upstream.on('error', (error) => {
      if (established) {
        client.destroy();
        return;
      }
      const status = error instanceof UpstreamTimeout ? 504 : 502;
      endRaw(client, status, `runbox: egress to ${target} failed: ${describeError(error)}\n`);
    });
    client.once('error', () => upstream.destroy());
    upstream.once('connect', () => {
      established = true;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    // A client that went away is not a request; anything else is a malformed one.
    if (error.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const reason = `malformed request (${error.code ?? error.message})`;
    record({ method: '', target: '', allowed: false, reason });
    endRaw(socket, status, `runbox: egress proxy: ${reason}\n`);
  });

  await removeStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Once listening, an error is a failed accept (EMFILE): that client is lost, the proxy is not.
  server.on('error', (error) => process.emitWarning(`egress proxy: ${error.message}`));
  try {
    await chmod(socketPath, options.socketMode ?? DEFAULT_EGRESS_SOCKET_MODE);
  } catch (error) {
    server.close();
    throw error;
  }

  let closing: Promise<void> | null = null;
  return {
    socketPath,
    log,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const upstream of upstreams) upstream.destroy();
        for (const client of clients) client.destroy();
        await closed;
        await rm(socketPath, { force: true });
      })();
      return closing;
    },
  };
}

/** An upstream connection that went quiet for the idle timeout. */
class UpstreamTimeout extends Error {
  constructor() {
    super('upstream idle timeout');
    this.name = 'UpstreamTimeout';
  }
}

function describeError(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ?? error.message;
}

/** Raw headers (name, value, name, value...) minus hop-by-hop, Proxy-* and Connection-named ones. */
function forwardedHeaders(raw: readonly string[]): string[] {
  const named = new Set<string>();
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() !== 'connection') continue;
    for (const token of (raw[i + 1] ?? '').split(',')) named.add(token.trim().toLowerCase());
  }
  const kept: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || lower === 'host' || lower.startsWith('proxy-') || named.has(lower))
      continue;
    kept.push(name, raw[i + 1] ?? '');
  }
  return kept;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'X-Content-Type-Options': 'nosniff',
    Connection: 'close',
  });
  res.end(text);
}

/** A response written straight onto a socket no HTTP machinery owns any more; then closed. */
function endRaw(socket: Duplex, status: number, text: string): void {
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      'Connection: close\r\n\r\n' +
      text,
  );
}

/**
 * Clears the way for `listen`: a socket file nobody answers on is left over from a proxy that
 * died, and goes; one somebody answers on, or a file that is not a socket, is not ours to delete.
 */
async function removeStaleSocket(socketPath: string): Promise<void> {
  try {
    const stat = await lstat(socketPath);
    if (!stat.isSocket()) throw new EgressProxyError(socketPath, 'exists and is not a socket');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (await somebodyListens(socketPath))
    throw new EgressProxyError(socketPath, 'another process is listening on it');
  await rm(socketPath, { force: true });
}

function somebodyListens(socketPath: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const probe = connect({ path: socketPath });
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED' || error.code === 'ENOENT') resolve(false);
      else reject(error);
    });
  });
}
