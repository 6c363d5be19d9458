import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AllowedOrigin } from './egress-allowlist.ts';
import { startEgressProxy, type EgressProxy } from './egress-proxy.ts';
import { listen, RawClient, rawExchange } from './test-support/raw-proxy-client.ts';

/**
 * HOSTILE: the egress proxy attacked directly, as a dependency install's code could (pip, npm, a
 * package's or the project's own install script all reach this socket). Every attack tries to
 * reach a server that is not on the list; each of those servers records every connection it gets,
 * and every test ends by proving they got none. What the allowed registries saw is recorded too,
 * so that "went only to the allowed origin" is checked, not assumed.
 *
 * The "evil" servers sit where a lax proxy would land: another port of 127.0.0.1, 127.0.0.2 on
 * the allowed port (another spelling of loopback), and [::1] on the allowed ports (what an IPv6
 * literal, or a name that resolves to ::1, reaches).
 */

interface Recorder {
  server: Server;
  port: number;
  /** Every connection's bytes, as received. */
  connections: string[];
}

/** What the allowed http registry saw of one request. */
interface SeenRequest {
  method: string;
  url: string;
  rawHeaders: string[];
}

let dir: string;
/** The allowed plain-http registry, 127.0.0.1:registryPort. */
let registry: HttpServer;
let registryPort: number;
const registrySaw: SeenRequest[] = [];
/** The allowed "https" registry, 127.0.0.1 (a raw recorder: the proxy never looks inside TLS). */
let tlsRegistry: Recorder;
/** Allowed by the name `localhost` (both of its addresses answer, and both are allowed). */
let localhostV4: Recorder;
let localhostV6: Recorder;
const evil: Recorder[] = [];
let evilPort: number;
let proxy: EgressProxy;
let socketCount = 0;

/** A TCP server that records what each connection sends and answers like a web server would. */
async function startRecorder(host: string, port = 0): Promise<Recorder> {
  const connections: string[] = [];
  const server = createNetServer((socket) => {
    const index = connections.push('') - 1;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      connections[index] += chunk;
      if ((connections[index] ?? '').includes('\r\n\r\n') && !socket.writableEnded)
        socket.end('HTTP/1.1 200 OK\r\nContent-Length: 9\r\nConnection: close\r\n\r\nrecorder\n');
    });
    socket.on('error', () => {});
  });
  return { server, port: await listen(server, host, port), connections };
}

/** All connections any server that is not allowed ever got: must stay empty. */
function evilConnections(): string[] {
  return evil.flatMap((recorder) => recorder.connections);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runbox-egress-hostile-'));
  registry = createHttpServer((req, res) => {
    registrySaw.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders });
    if (req.url === '/redirect') {
      res.writeHead(302, { Location: `http://127.0.0.1:${evilPort}/followed` });
      res.end();
      return;
    }
    res.end('registry');
  });
  registryPort = await listen(registry, '127.0.0.1');
  tlsRegistry = await startRecorder('127.0.0.1');
  localhostV4 = await startRecorder('127.0.0.1');
  localhostV6 = await startRecorder('::1', localhostV4.port);
  const other = await startRecorder('127.0.0.1');
  evilPort = other.port;
  evil.push(
    other,
    await startRecorder('127.0.0.2', registryPort),
    await startRecorder('127.0.0.2', tlsRegistry.port),
    await startRecorder('::1', registryPort),
    await startRecorder('::1', tlsRegistry.port),
  );
});

afterEach(async () => {
  await proxy.close();
  // Every attack ends here: nothing that is not allowed was reached, whatever the answer said.
  const reached = evilConnections();
  for (const recorder of evil) recorder.connections.length = 0;
  expect(reached).toEqual([]);
});

afterAll(async () => {
  registry.closeAllConnections();
  await new Promise((resolve) => registry.close(resolve));
  for (const recorder of [tlsRegistry, localhostV4, localhostV6, ...evil])
    await new Promise((resolve) => recorder.server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

async function startProxy(): Promise<EgressProxy> {
  socketCount += 1;
  const allow: AllowedOrigin[] = [
    { scheme: 'http', host: '127.0.0.1', port: registryPort },
    { scheme: 'https', host: '127.0.0.1', port: tlsRegistry.port },
    { scheme: 'http', host: 'localhost', port: localhostV4.port },
  ];
  proxy = await startEgressProxy({ socketPath: join(dir, `p${socketCount}.sock`), allow });
  return proxy;
}

/** The status codes of the responses in `received`, in order. */
function statuses(received: string): number[] {
  return [...received.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((match) => Number(match[1]));
}

async function until(check: () => boolean): Promise<void> {
  for (let tries = 0; !check(); tries++) {
    if (tries > 500) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function hostHeaderOf(request: SeenRequest): string[] {
  const hosts: string[] = [];
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2)
    if (request.rawHeaders[i]?.toLowerCase() === 'host')
      hosts.push(request.rawHeaders[i + 1] ?? '');
  return hosts;
}

describe('HOSTILE: the egress proxy, called directly', () => {
  it('decides by the request target, never by a Host header naming another server', async () => {
    await startProxy();
    const before = registrySaw.length;
    // An allowed target with a Host naming another: it goes to the allowed origin, whose Host it
    // is given (an upstream that routes by Host cannot be steered to a virtual host either).
    const allowed = await rawExchange(
      proxy.socketPath,
      `GET http://127.0.0.1:${registryPort}/simple/ HTTP/1.1\r\nHost: 127.0.0.1:${evilPort}\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(allowed)).toEqual([200]);
    const seen = registrySaw.slice(before);
    expect(seen.map((request) => request.url)).toEqual(['/simple/']);
    expect(hostHeaderOf(seen[0] as SeenRequest)).toEqual([`127.0.0.1:${registryPort}`]);
    // The reverse: a target that is not allowed, with the allowed Host.
    const refused = await rawExchange(
      proxy.socketPath,
      `GET http://127.0.0.1:${evilPort}/ HTTP/1.1\r\nHost: 127.0.0.1:${registryPort}\r\n\r\n`,
    );
    expect(statuses(refused)).toEqual([403]);
    // Origin form (a plain web request that relies on Host alone) is no proxy request at all.
    const originForm = await rawExchange(
      proxy.socketPath,
      `GET /simple/ HTTP/1.1\r\nHost: 127.0.0.1:${registryPort}\r\n\r\n`,
    );
    expect(statuses(originForm)).toEqual([403]);
    expect(registrySaw.length).toBe(before + 1);
  });

  it('keeps a CONNECT tunnel to its origin: what follows on the connection goes only there', async () => {
    await startProxy();
    const client = new RawClient(proxy.socketPath);
    const smuggled = `GET http://127.0.0.1:${evilPort}/second HTTP/1.1\r\nHost: 127.0.0.1:${evilPort}\r\n\r\n`;
    // The second request in the very same write as the CONNECT (the proxy sees it as `head`)...
    client.socket.write(
      `CONNECT 127.0.0.1:${tlsRegistry.port} HTTP/1.1\r\nHost: 127.0.0.1:${evilPort}\r\n\r\n${smuggled}`,
    );
    await client.waitFor((text) => text.startsWith('HTTP/1.1 200 Connection Established\r\n\r\n'));
    // ...and another one, then a second CONNECT, after the tunnel is up.
    client.socket.write(`CONNECT 127.0.0.1:${evilPort} HTTP/1.1\r\n\r\n`);
    await until(() => (tlsRegistry.connections.at(-1) ?? '').includes('CONNECT'));
    const tunnelled = tlsRegistry.connections.at(-1) ?? '';
    expect(tunnelled).toBe(`${smuggled}CONNECT 127.0.0.1:${evilPort} HTTP/1.1\r\n\r\n`);
    client.socket.destroy();
    // CONNECT to another port with the allowed one in Host: refused.
    const refused = await rawExchange(
      proxy.socketPath,
      `CONNECT 127.0.0.1:${evilPort} HTTP/1.1\r\nHost: 127.0.0.1:${tlsRegistry.port}\r\n\r\n`,
    );
    expect(statuses(refused)).toEqual([403]);
    // CONNECT to the plain-http registry: it is allowed as http only, never as a raw tunnel.
    const rawToHttp = await rawExchange(
      proxy.socketPath,
      `CONNECT 127.0.0.1:${registryPort} HTTP/1.1\r\n\r\n`,
    );
    expect(statuses(rawToHttp)).toEqual([403]);
  });

  it('judges every request of a kept-alive connection on its own, pipelined or not', async () => {
    await startProxy();
    const client = new RawClient(proxy.socketPath);
    client.socket.write(`GET http://127.0.0.1:${registryPort}/one HTTP/1.1\r\nHost: a\r\n\r\n`);
    await client.waitFor((text) => statuses(text).length === 1);
    client.socket.write(
      `GET http://127.0.0.1:${evilPort}/two HTTP/1.1\r\nHost: a\r\n\r\n` +
        `GET http://127.0.0.1:${registryPort}/three HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    );
    const received = await client.closed();
    // The refusal closes the connection: the pipelined third request is never read.
    expect(statuses(received)).toEqual([200, 403]);
    expect(registrySaw.map((request) => request.url)).not.toContain('/three');
  });

  it.each([
    [
      'allowed user info before a host that is not',
      (r: number, e: number) => `http://127.0.0.1:${r}@127.0.0.1:${e}/`,
    ],
    [
      'a backslash before the user info',
      (r: number, e: number) => `http://127.0.0.1:${e}\\@127.0.0.1:${r}/`,
    ],
    ['credentials for the allowed origin', (r: number) => `http://user:secret@127.0.0.1:${r}/`],
    [
      'a fragment hiding the host',
      (r: number, e: number) => `http://127.0.0.1:${e}#@127.0.0.1:${r}/`,
    ],
  ])('refuses a URL with %s', async (_name, target) => {
    await startProxy();
    const before = registrySaw.length;
    const answer = await rawExchange(
      proxy.socketPath,
      `GET ${target(registryPort, evilPort)} HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    expect(statuses(answer)[0]).toBeGreaterThanOrEqual(400);
    expect(registrySaw.length).toBe(before);
  });

  it('refuses CONNECT with user info', async () => {
    await startProxy();
    const tunnels = tlsRegistry.connections.length;
    for (const target of [
      `127.0.0.1:${tlsRegistry.port}@127.0.0.1:${evilPort}`,
      `allowed@127.0.0.1:${evilPort}`,
      `127.0.0.1@127.0.0.1:${tlsRegistry.port}`,
    ]) {
      const answer = await rawExchange(proxy.socketPath, `CONNECT ${target} HTTP/1.1\r\n\r\n`);
      expect(statuses(answer)).toEqual([400]);
    }
    expect(tlsRegistry.connections.length).toBe(tunnels);
  });

  it('matches a host in another case as the same name, and refuses one with a trailing dot', async () => {
    await startProxy();
    const upper = await rawExchange(
      proxy.socketPath,
      `GET HTTP://LOCALHOST:${localhostV4.port}/upper HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(upper)).toEqual([200]);
    // Whichever address the allowed name resolved to, only the allowed server got it.
    const gotIt = [...localhostV4.connections, ...localhostV6.connections];
    expect(gotIt).toEqual([expect.stringMatching(/^GET \/upper HTTP\/1\.1\r\n/)]);
    for (const request of [
      `GET http://localhost.:${localhostV4.port}/dot HTTP/1.1\r\nHost: a\r\n\r\n`,
      `GET http://127.0.0.1.:${registryPort}/dot HTTP/1.1\r\nHost: a\r\n\r\n`,
      `CONNECT 127.0.0.1.:${tlsRegistry.port} HTTP/1.1\r\n\r\n`,
      `CONNECT LOCALHOST.:${tlsRegistry.port} HTTP/1.1\r\n\r\n`,
    ]) {
      const answer = await rawExchange(proxy.socketPath, request);
      expect(statuses(answer), request).toEqual([403]);
    }
    expect([...localhostV4.connections, ...localhostV6.connections]).toHaveLength(1);
    expect(registrySaw.map((request) => request.url)).not.toContain('/dot');
  });

  it('refuses IPv6 literals and every other spelling of an allowed address', async () => {
    await startProxy();
    const before = registrySaw.length;
    const spellings = [
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[::ffff:7f00:1]',
      '127.0.0.2',
      '127.1',
      '2130706433',
      '0x7f000001',
      '0177.0.0.1',
      '127.000.000.001',
      '0.0.0.0',
    ];
    for (const host of spellings) {
      const get = await rawExchange(
        proxy.socketPath,
        `GET http://${host}:${registryPort}/ HTTP/1.1\r\nHost: a\r\n\r\n`,
      );
      expect(statuses(get), host).toEqual([403]);
      const tunnel = await rawExchange(
        proxy.socketPath,
        `CONNECT ${host}:${tlsRegistry.port} HTTP/1.1\r\n\r\n`,
      );
      expect(statuses(tunnel), host).toEqual([403]);
    }
    // An IPv4 address in brackets is read as that address: lax, but it names the allowed origin
    // itself, and that is all it reaches.
    const bracketed = await rawExchange(
      proxy.socketPath,
      `GET http://[127.0.0.1]:${registryPort}/bracketed HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(bracketed)).toEqual([200]);
    expect(registrySaw.slice(before).map((request) => request.url)).toEqual(['/bracketed']);
    // A bare IPv6 address (no brackets) cannot be told from a port: malformed.
    expect(
      statuses(
        await rawExchange(proxy.socketPath, `CONNECT ::1:${tlsRegistry.port} HTTP/1.1\r\n\r\n`),
      ),
    ).toEqual([400]);
    expect(registrySaw.length).toBe(before + 1);
  });

  it('refuses requests that carry a second request in their body (smuggling)', async () => {
    await startProxy();
    const before = registrySaw.length;
    const inner = `GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1:${registryPort}\r\n\r\n`;
    const attempts = [
      // A chunked body on a GET.
      `GET http://127.0.0.1:${registryPort}/a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${inner.length.toString(16)}\r\n${inner}\r\n0\r\n\r\n`,
      // A counted body on a GET.
      `GET http://127.0.0.1:${registryPort}/a HTTP/1.1\r\nHost: a\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`,
      // Both, disagreeing (CL.TE).
      `GET http://127.0.0.1:${registryPort}/a HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${inner}`,
      // Two lengths.
      `GET http://127.0.0.1:${registryPort}/a HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`,
      // A folded header hiding a Transfer-Encoding.
      `GET http://127.0.0.1:${registryPort}/a HTTP/1.1\r\nHost: a\r\nX-A: b\r\n Transfer-Encoding: chunked\r\n\r\n`,
      // A POST, whose body the registry would read.
      `POST http://127.0.0.1:${registryPort}/a HTTP/1.1\r\nHost: a\r\nContent-Length: ${inner.length}\r\n\r\n${inner}`,
    ];
    for (const attempt of attempts) {
      const answer = await rawExchange(proxy.socketPath, attempt);
      expect(statuses(answer)[0], attempt).toBeGreaterThanOrEqual(400);
    }
    expect(registrySaw.slice(before)).toEqual([]);
  });

  it('passes a redirect to another server back without following it', async () => {
    await startProxy();
    const answer = await rawExchange(
      proxy.socketPath,
      `GET http://127.0.0.1:${registryPort}/redirect HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(answer)).toEqual([302]);
    expect(answer).toContain(`Location: http://127.0.0.1:${evilPort}/followed`);
    // A client that follows it asks the proxy again, and is refused.
    const followed = await rawExchange(
      proxy.socketPath,
      `GET http://127.0.0.1:${evilPort}/followed HTTP/1.1\r\nHost: a\r\n\r\n`,
    );
    expect(statuses(followed)).toEqual([403]);
  });

  it('never turns an Upgrade request into a raw tunnel', async () => {
    await startProxy();
    const before = registrySaw.length;
    const client = new RawClient(proxy.socketPath);
    client.socket.write(
      `GET http://127.0.0.1:${registryPort}/ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    );
    await client.waitFor((text) => statuses(text).length === 1);
    // What follows is parsed as the next request, not passed through.
    client.socket.write(`GET http://127.0.0.1:${evilPort}/ HTTP/1.1\r\nHost: a\r\n\r\n`);
    const received = await client.closed();
    expect(statuses(received)).toEqual([200, 403]);
    const seen = registrySaw.slice(before);
    expect(seen.map((request) => request.url)).toEqual(['/ws']);
    expect(seen[0]?.rawHeaders.map((name) => name.toLowerCase())).not.toContain('upgrade');
  });

  it('refuses other schemes, https as a URL and asterisk targets', async () => {
    await startProxy();
    const before = registrySaw.length;
    const tunnels = tlsRegistry.connections.length;
    for (const request of [
      `GET https://127.0.0.1:${tlsRegistry.port}/ HTTP/1.1\r\nHost: a\r\n\r\n`,
      `GET file:///etc/passwd HTTP/1.1\r\nHost: a\r\n\r\n`,
      `GET gopher://127.0.0.1:${evilPort}/_GET HTTP/1.1\r\nHost: a\r\n\r\n`,
      `GET ftp://127.0.0.1:${evilPort}/ HTTP/1.1\r\nHost: a\r\n\r\n`,
      `OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1:${registryPort}\r\n\r\n`,
    ]) {
      const answer = await rawExchange(proxy.socketPath, request);
      expect(statuses(answer)[0], request).toBeGreaterThanOrEqual(400);
    }
    expect(registrySaw.length).toBe(before);
    expect(tlsRegistry.connections.length).toBe(tunnels);
  });

  it('survives malformed request lines and bytes the upstream request could not carry', async () => {
    await startProxy();
    const lines: Buffer[] = [
      Buffer.from(`GET http://127.0.0.1:${registryPort}/a\tb HTTP/1.1\r\n\r\n`),
      Buffer.from(`GET http://127.0.0.1:${registryPort}/a\fb HTTP/1.1\r\n\r\n`),
      Buffer.from(`GET http://127.0.0.1:${registryPort}/\x7f HTTP/1.1\r\n\r\n`),
      Buffer.concat([
        Buffer.from(`GET http://127.0.0.1:${registryPort}/`),
        Buffer.from('€', 'utf8'),
        Buffer.from(' HTTP/1.1\r\n\r\n'),
      ]),
      Buffer.from(`GET http://127.0.0.1:${registryPort}/ HTTP/1.1\r\nHost: a\r\nX\0: b\r\n\r\n`),
      Buffer.from(`GET http://127.0.0.1:${registryPort}/ HTTP/9.9\r\n\r\n`),
      Buffer.from(`CONNECT 127.0.0.1:${tlsRegistry.port}\0 HTTP/1.1\r\n\r\n`),
      Buffer.from(`GET http://127.0.0.1:${registryPort}99999/ HTTP/1.1\r\n\r\n`),
    ];
    for (const line of lines) {
      const answer = await rawExchange(proxy.socketPath, line);
      expect(
        statuses(answer)[0] ?? 400,
        JSON.stringify(line.toString('latin1')),
      ).toBeGreaterThanOrEqual(400);
    }
    // Still serving (a throw in its request handler would have ended this process).
    const after = await rawExchange(
      proxy.socketPath,
      `GET http://127.0.0.1:${registryPort}/after HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`,
    );
    expect(statuses(after)).toEqual([200]);
  });
});
