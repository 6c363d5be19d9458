import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/**
 * TEST SCAFFOLDING: a TCP proxy in front of a real server that cuts the first event stream
 * (`GET .../events`) once the bytes it has relayed of it match `cutWhen`: what a dropped
 * connection looks like to the client. Every other connection, and every later event stream,
 * passes untouched.
 */

export interface CuttingProxy {
  url: string;
  /** The request heads of every event-stream request, in order. */
  eventRequests: string[];
  /** Whether the cut has happened. */
  cut(): boolean;
  close(): Promise<void>;
}

export async function startCuttingProxy(
  targetUrl: string,
  cutWhen: (relayed: string) => boolean,
): Promise<CuttingProxy> {
  const target = new URL(targetUrl);
  const eventRequests: string[] = [];
  const sockets = new Set<Socket>();
  let cutDone = false;

  const server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    sockets.add(client).add(upstream);
    let requestText = '';
    let carriesEvents = false;
    let relayed = '';
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.end());
    client.on('data', (chunk: Buffer) => {
      requestText += chunk.toString('latin1');
      // Keep-alive: one connection may carry other requests first; the stream is its last.
      let end: number;
      while ((end = requestText.indexOf('\r\n\r\n')) >= 0) {
        const head = requestText.slice(0, end);
        requestText = requestText.slice(end + 4);
        // A POST's body comes before the next head, so the request line may not start it.
        if (/GET \S*\/events\S* HTTP\/1\.1/.test(head)) {
          eventRequests.push(head);
          carriesEvents = true;
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      if (!carriesEvents || cutDone) return;
      relayed += chunk.toString('utf8');
      if (cutWhen(relayed)) {
        cutDone = true;
        // What was relayed reaches the client, then the connection ends mid-stream.
        client.end();
        upstream.destroy();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    eventRequests,
    cut: () => cutDone,
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
