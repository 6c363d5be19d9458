import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  request,
  type IncomingHttpHeaders,
  type Server as HttpServer,
} from 'node:http';
import { createServer as createNetServer, connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AllowedOrigin } from './egress-allowlist.ts';
import {
  EgressProxyError,
  startEgressProxy,
  type EgressLogEntry,
  type EgressProxy,
} from './egress-proxy.ts';
import { listen, RawClient, rawExchange } from './test-support/raw-proxy-client.ts';

/** What the upstream registry saw of a forwarded request. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

let dir: string;
let upstream: HttpServer;
let upstreamPort: number;
let echo: Server;
let echoPort: number;
/** A loopback port nobody listens on. */
let closedPort: number;
const proxies: EgressProxy[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbox-egress-'));
  upstream = createHttpServer((req, res) => {
    if (req.url === '/hang') return;
    if (req.url === '/redirect') {
      res.writeHead(302, { Location: `http://127.0.0.1:${upstreamPort}/elsewhere` });
      res.end();
      return;
    }
    const seen: Seen = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    res.setHeader('X-Registry', 'yes');
    res.setHeader('Set-Cookie', ['a=1', 'b=2']);
    res.writeHead(203, 'Seen It');
    // Two writes and no length: the answer is streamed (chunked) through the proxy.
    res.write(JSON.stringify(seen).slice(0, 10));
    res.end(JSON.stringify(seen).slice(10));
  });
  upstreamPort = await listen(upstream);
  echo = createNetServer((socket) => socket.pipe(socket));
  echoPort = await listen(echo);
  const spare = createNetServer();
  closedPort = await listen(spare);
  await new Promise((resolve) => spare.close(resolve));
});

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
});

afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((resolve) => upstream.close(resolve));
  await new Promise((resolve) => echo.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

let socketCount = 0;
async function proxyWith(
  allow: AllowedOrigin[],
  options: { maxConnections?: number; idleTimeoutMs?: number; socketMode?: number } = {},
): Promise<{ proxy: EgressProxy; heard: EgressLogEntry[] }> {
  const heard: EgressLogEntry[] = [];
  socketCount += 1;
  const proxy = await startEgressProxy({
    socketPath: join(dir, `proxy-${socketCount}.sock`),
    allow,
    onRequest: (entry) => heard.push(entry),
    ...options,
  });
  proxies.push(proxy);
  return { proxy, heard };
}

function allowTestOrigins(): AllowedOrigin[] {
  return [
    { scheme: 'http', host: '127.0.0.1', port: upstreamPort },
    { scheme: 'https', host: '127.0.0.1', port: echoPort },
    { scheme: 'http', host: '127.0.0.1', port: closedPort },
    { scheme: 'https', host: 'localhost', port: closedPort },
  ];
}

interface Answer {
  status: number;
  statusMessage: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

function viaProxy(
  socketPath: string,
  path: string,
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({
      socketPath,
      path,
      method: options.method ?? 'GET',
      headers: options.headers,
    });
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.once('error', reject);
      res.once('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          statusMessage: res.statusMessage ?? '',
          headers: res.headers,
          rawHeaders: res.rawHeaders,
          body,
        }),
      );
    });
    req.end();
  });
}

async function openTunnel(socketPath: string, port: number): Promise<RawClient> {
  const client = new RawClient(socketPath);
  client.socket.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  await client.waitFor('\r\n\r\n');
  expect(client.received).toBe('HTTP/1.1 200 Connection Established\r\n\r\n');
  return client;
}

describe('startEgressProxy: plain http registries', () => {
  it('forwards an allowed GET and streams back status, headers and body', async () => {
    const { proxy, heard } = await proxyWith(allowTestOrigins());
    const answer = await viaProxy(
      proxy.socketPath,
      `http://127.0.0.1:${upstreamPort}/simple/x/?q=1`,
      {
        headers: {
          'X-Client': 'pip',
          'Proxy-Authorization': 'Basic c2VjcmV0',
          Connection: 'keep-alive, X-Per-Hop',
          'X-Per-Hop': 'drop me',
          Upgrade: 'websocket',
        },
      },
    );
    expect(answer.status).toBe(203);
    expect(answer.statusMessage).toBe('Seen It');
    expect(answer.headers['x-registry']).toBe('yes');
    expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    const seen = JSON.parse(answer.body) as Seen;
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe('/simple/x/?q=1');
    expect(seen.headers.host).toBe(`127.0.0.1:${upstreamPort}`);
    expect(seen.headers['x-client']).toBe('pip');
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.headers['x-per-hop']).toBeUndefined();
    expect(seen.headers.upgrade).toBeUndefined();
    const entry = {
      method: 'GET',
      target: `http://127.0.0.1:${upstreamPort}/simple/x/?q=1`,
      allowed: true,
    };
    expect(proxy.log).toEqual([entry]);
    expect(heard).toEqual([entry]);
  });

  it('forwards HEAD, and passes a redirect back without following it', async () => {
    const { proxy } = await proxyWith(allowTestOrigins());
    const head = await viaProxy(proxy.socketPath, `http://127.0.0.1:${upstreamPort}/h`, {
      method: 'HEAD',
    });
    expect(head.status).toBe(203);
    expect(head.body).toBe('');
    const redirect = await viaProxy(proxy.socketPath, `http://127.0.0.1:${upstreamPort}/redirect`);
    expect(redirect.status).toBe(302);
    expect(redirect.headers.location).toBe(`http://127.0.0.1:${upstreamPort}/elsewhere`);
    expect(proxy.log.map((entry) => entry.allowed)).toEqual([true, true]);
  });

  it('serves several requests on one kept-alive connection', async () => {
    const { proxy } = await proxyWith(allowTestOrigins());
    const client = new RawClient(proxy.socketPath);
    const target = `http://127.0.0.1:${upstreamPort}`;
    client.socket.write(`GET ${target}/one HTTP/1.1\r\nHost: x\r\n\r\n`);
    await client.waitFor('/one');
    client.socket.write(`GET ${target}/two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await client.closed();
    expect(client.received.match(/HTTP\/1\.1 203 Seen It/g)).toHaveLength(2);
    expect(client.received).toContain('"url":"/two"');
  });

  it('refuses a host or port not on the list with 403 and the allowed list', async () => {
    const { proxy, heard } = await proxyWith(allowTestOrigins());
    const byName = await viaProxy(proxy.socketPath, `http://localhost:${upstreamPort}/x`);
    expect(byName.status).toBe(403);
    expect(byName.body).toBe(
      `runbox: egress to http://localhost:${upstreamPort}/x refused: not an allowed package registry ` +
        `(allowed: http://127.0.0.1:${upstreamPort}, 127.0.0.1:${echoPort}, ` +
        `http://127.0.0.1:${closedPort}, localhost:${closedPort})\n`,
    );
    const byPort = await viaProxy(proxy.socketPath, `http://127.0.0.1:${echoPort}/x`);
    expect(byPort.status).toBe(403);
    expect(byPort.body).toMatch(/refused: not an allowed package registry/);
    expect(heard).toEqual([
      {
        method: 'GET',
        target: `http://localhost:${upstreamPort}/x`,
        allowed: false,
        reason: expect.stringMatching(/^not an allowed package registry/) as unknown,
      },
      {
        method: 'GET',
        target: `http://127.0.0.1:${echoPort}/x`,
        allowed: false,
        reason: expect.stringMatching(/^not an allowed package registry/) as unknown,
      },
    ]);
  });

  it.each([
    [
      'POST to an allowed origin',
      'POST',
      (port: number) => `http://127.0.0.1:${port}/x`,
      403,
      /method POST is not allowed/,
    ],
    [
      'https as a URL',
      'GET',
      (port: number) => `https://127.0.0.1:${port}/x`,
      403,
      /https goes through CONNECT/,
    ],
    ['an origin-form request', 'GET', () => '/x', 403, /not a proxy request/],
    [
      'credentials in the URL',
      'GET',
      (port: number) => `http://me:pw@127.0.0.1:${port}/x`,
      403,
      /credentials/,
    ],
    ['another scheme', 'GET', (port: number) => `ftp://127.0.0.1:${port}/x`, 403, /scheme ftp/],
    ['a malformed port', 'GET', () => 'http://127.0.0.1:port/x', 400, /malformed host or port/],
  ])('refuses %s', async (_name, method, target, status, reason) => {
    const { proxy } = await proxyWith(allowTestOrigins());
    const path = target(upstreamPort);
    const answer = await rawExchange(
      proxy.socketPath,
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`,
    );
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(answer).toMatch(reason);
    expect(answer).toContain(`runbox: egress to ${path} refused: `);
    expect(proxy.log).toEqual([
      { method, target: path, allowed: false, reason: expect.stringMatching(reason) as unknown },
    ]);
  });

  it('refuses a GET that carries a body', async () => {
    const { proxy } = await proxyWith(allowTestOrigins());
    const answer = await rawExchange(
      proxy.socketPath,
      `GET http://127.0.0.1:${upstreamPort}/x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('a GET or HEAD with a body');
  });

  it('answers 502 naming the target when an allowed upstream refuses the connection', async () => {
    const { proxy } = await proxyWith(allowTestOrigins());
    const answer = await viaProxy(proxy.socketPath, `http://127.0.0.1:${closedPort}/simple/`);
    expect(answer.status).toBe(502);
    expect(answer.body).toBe(
      `runbox: egress to http://127.0.0.1:${closedPort}/simple/ failed: ECONNREFUSED\n`,
    );
    expect(proxy.log).toEqual([
      { method: 'GET', target: `http://127.0.0.1:${closedPort}/simple/`, allowed: true },
    ]);
  });

  it('answers 504 when an allowed upstream stays silent past the idle timeout', async () => {
    const { proxy } = await proxyWith(allowTestOrigins(), { idleTimeoutMs: 200 });
    const answer = await viaProxy(proxy.socketPath, `http://127.0.0.1:${upstreamPort}/hang`);
    expect(answer.status).toBe(504);
    expect(answer.body).toBe(
      `runbox: egress to http://127.0.0.1:${upstreamPort}/hang failed: upstream idle timeout\n`,
    );
  });

  it('answers 431 to a request head over the size limit, and logs it', async () => {
    const { proxy } = await proxyWith(allowTestOrigins());
    const answer = await rawExchange(
      proxy.socketPath,
      `GET http://127.0.0.1:${upstreamPort}/x HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(70_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    expect(proxy.log).toEqual([
      { method: '', target: '', allowed: false, reason: 'malformed request (HPE_HEADER_OVERFLOW)' },
    ]);
  });
});

describe('startEgressProxy: CONNECT tunnels', () => {
  it('tunnels bytes both ways to an allowed https origin, early bytes included', async () => {
    const { proxy, heard } = await proxyWith(allowTestOrigins());
    const client = new RawClient(proxy.socketPath);
    client.socket.write(`CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nearly;`);
    await client.waitFor('early;');
    expect(client.received).toBe('HTTP/1.1 200 Connection Established\r\n\r\nearly;');
    client.socket.write('hello through the tunnel');
    await client.waitFor('hello through the tunnel');
    client.socket.end();
    await client.closed();
    expect(heard).toEqual([{ method: 'CONNECT', target: `127.0.0.1:${echoPort}`, allowed: true }]);
  });

  it('refuses CONNECT to a host not on the list with 403 naming it and the list', async () => {
    const { proxy } = await proxyWith([
      { scheme: 'https', host: 'pypi.org', port: 443 },
      { scheme: 'https', host: 'files.pythonhosted.org', port: 443 },
    ]);
    const answer = await rawExchange(
      proxy.socketPath,
      'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n',
    );
    const body =
      'runbox: egress to evil.example:443 refused: not an allowed package registry ' +
      '(allowed: pypi.org:443, files.pythonhosted.org:443)\n';
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(answer.endsWith(`\r\n\r\n${body}`)).toBe(true);
    expect(proxy.log).toEqual([
      {
        method: 'CONNECT',
        target: 'evil.example:443',
        allowed: false,
        reason: expect.stringMatching(/^not an allowed/) as unknown,
      },
    ]);
  });

  it.each([
    ['a port on the list only for http', (ports: Ports) => `127.0.0.1:${ports.upstream}`, 403],
    ['the same address by another name', (ports: Ports) => `localhost:${ports.echo}`, 403],
    ['an IP literal not on the list', () => '10.0.0.1:443', 403],
    ['a target without a port', () => 'pypi.org', 400],
  ])('refuses CONNECT to %s', async (_name, target, status) => {
    const { proxy } = await proxyWith(allowTestOrigins());
    const authority = target({ upstream: upstreamPort, echo: echoPort });
    const answer = await rawExchange(
      proxy.socketPath,
      `CONNECT ${authority} HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(answer).toContain(`runbox: egress to ${authority} refused: `);
    expect(proxy.log).toHaveLength(1);
    expect(proxy.log[0]?.allowed).toBe(false);
  });

  it('answers 502 naming the target when an allowed origin refuses the connection', async () => {
    const { proxy } = await proxyWith(allowTestOrigins());
    const answer = await rawExchange(
      proxy.socketPath,
      `CONNECT localhost:${closedPort} HTTP/1.1\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(answer).toContain(`runbox: egress to localhost:${closedPort} failed: ECONNREFUSED`);
    expect(proxy.log).toEqual([
      { method: 'CONNECT', target: `localhost:${closedPort}`, allowed: true },
    ]);
  });

  it('closes a tunnel that stays idle', async () => {
    const { proxy } = await proxyWith(allowTestOrigins(), { idleTimeoutMs: 200 });
    const client = await openTunnel(proxy.socketPath, echoPort);
    await client.closed();
    expect(client.received).toBe('HTTP/1.1 200 Connection Established\r\n\r\n');
  });
});

interface Ports {
  upstream: number;
  echo: number;
}

describe('startEgressProxy: limits and life cycle', () => {
  it('answers 503 to connections over the limit, and takes new ones when a slot frees', async () => {
    const { proxy } = await proxyWith(allowTestOrigins(), { maxConnections: 2 });
    const first = await openTunnel(proxy.socketPath, echoPort);
    const second = await openTunnel(proxy.socketPath, echoPort);
    const busy = await rawExchange(
      proxy.socketPath,
      `GET http://127.0.0.1:${upstreamPort}/x HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    expect(busy).toMatch(/^HTTP\/1\.1 503 /);
    expect(busy).toContain('runbox: egress proxy busy: more than 2 connections at once');
    const busyTunnel = await rawExchange(
      proxy.socketPath,
      `CONNECT 127.0.0.1:${echoPort} HTTP/1.1\r\n\r\n`,
    );
    expect(busyTunnel).toMatch(/^HTTP\/1\.1 503 /);
    first.socket.end();
    await first.closed();
    // The proxy counts the slot free when it sees the close, a moment after the client does.
    let answer = '';
    for (let attempt = 0; attempt < 50 && !answer.startsWith('HTTP/1.1 203'); attempt += 1) {
      answer = await rawExchange(
        proxy.socketPath,
        `GET http://127.0.0.1:${upstreamPort}/x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
      );
    }
    expect(answer).toMatch(/^HTTP\/1\.1 203 /);
    second.socket.end();
    expect(
      proxy.log.filter((entry) => entry.reason === 'too many connections').length,
    ).toBeGreaterThanOrEqual(2);
  });

  it('close() ends open tunnels and removes the socket file', async () => {
    const { proxy } = await proxyWith(allowTestOrigins());
    // Half a request head: the HTTP server does not count it idle, so only close() can end it.
    const halfway = new RawClient(proxy.socketPath);
    halfway.socket.write(`GET http://127.0.0.1:${upstreamPort}/x HTTP/1.1\r\nHost: a\r\n`);
    // Accepted in order, so by the time these are answered the half head has been read.
    const tunnel = await openTunnel(proxy.socketPath, echoPort);
    const kept = new RawClient(proxy.socketPath);
    kept.socket.write(`GET http://127.0.0.1:${upstreamPort}/x HTTP/1.1\r\nHost: a\r\n\r\n`);
    await kept.waitFor('"url":"/x"');
    expect(existsSync(proxy.socketPath)).toBe(true);
    await proxy.close();
    await tunnel.closed();
    await kept.closed();
    await halfway.closed();
    expect(existsSync(proxy.socketPath)).toBe(false);
    const late = connect({ path: proxy.socketPath });
    const [error] = (await once(late, 'error')) as [NodeJS.ErrnoException];
    expect(error.code).toBe('ENOENT');
    await proxy.close();
  });

  it('makes the socket connectable by other users, or as asked', async () => {
    const { proxy } = await proxyWith([]);
    expect((await stat(proxy.socketPath)).mode & 0o777).toBe(0o666);
    const { proxy: strict } = await proxyWith([], { socketMode: 0o600 });
    expect((await stat(strict.socketPath)).mode & 0o777).toBe(0o600);
  });

  it('replaces a stale socket file, but not a live socket or another file', async () => {
    const stale = join(dir, 'stale.sock');
    // A process that dies listening leaves its socket file behind.
    await promisify(execFile)(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(stale)}, () => process.exit(0))`,
    ]);
    expect(existsSync(stale)).toBe(true);
    const proxy = await startEgressProxy({ socketPath: stale, allow: allowTestOrigins() });
    proxies.push(proxy);
    const answer = await viaProxy(stale, `http://127.0.0.1:${upstreamPort}/x`);
    expect(answer.status).toBe(203);

    await expect(startEgressProxy({ socketPath: stale, allow: [] })).rejects.toThrow(
      EgressProxyError,
    );
    await expect(startEgressProxy({ socketPath: stale, allow: [] })).rejects.toThrow(
      /another process is listening/,
    );
    const plain = join(dir, 'not-a-socket');
    await writeFile(plain, 'keep me');
    await expect(startEgressProxy({ socketPath: plain, allow: [] })).rejects.toThrow(
      /exists and is not a socket/,
    );
    expect(existsSync(plain)).toBe(true);
  });
});
