import { performance } from 'node:perf_hooks';
import { WebSocketServer, WebSocket as WsSocket, type RawData } from 'ws';
import { rawDataBytes } from './clients.ts';
import { within } from './stats.ts';

export interface LoopbackRate {
  linesPerSecond: number;
  bytesPerSecond: number;
  bytesPerMessage: number;
}

/**
 * The baseline for output throughput: a bare `ws` server on its own loopback port sends `count`
 * text messages (made by `message`) to one `ws` client in this process, which parses each as the
 * tRPC client does. Rates run from the first message received to the last, like the API's.
 */
export async function rawWsLoopback(
  count: number,
  message: (index: number) => string,
): Promise<LoopbackRate> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  try {
    await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
    const address = wss.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    wss.on('connection', (socket) => {
      socket.once('message', () => {
        let sent = 0;
        // Batches of 1000 (the engine's read size), yielding between them so that the client,
        // in the same process, reads while the server writes.
        const batch = (): void => {
          const end = Math.min(count, sent + 1000);
          for (; sent < end; sent++) socket.send(message(sent));
          if (sent < count) setImmediate(batch);
        };
        batch();
      });
    });
    const client = new WsSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
    let received = 0;
    let bytes = 0;
    let first = Number.NaN;
    let firstBytes = 0;
    let last = Number.NaN;
    const done = new Promise<void>((resolve, reject) => {
      client.once('error', reject);
      client.on('message', (data: RawData) => {
        bytes += rawDataBytes(data);
      });
      // As the tRPC client reads: each message's text, parsed.
      client.addEventListener('message', ({ data }) => {
        JSON.parse(String(data));
        received++;
        last = performance.now();
        if (received === 1) {
          first = last;
          firstBytes = bytes;
        }
        if (received === count) resolve();
      });
    });
    await within(
      new Promise<void>((resolve, reject) => {
        client.once('open', () => resolve());
        client.once('error', reject);
      }),
      10_000,
      'raw ws loopback connection',
    );
    client.send('go');
    await within(done, 60_000, 'raw ws loopback');
    client.close();
    const seconds = (last - first) / 1000;
    return {
      linesPerSecond: (count - 1) / seconds,
      bytesPerSecond: (bytes - firstBytes) / seconds,
      bytesPerMessage: bytes / count,
    };
  } finally {
    for (const socket of wss.clients) socket.terminate();
    await new Promise<void>((resolve) => wss.close(() => resolve()));
  }
}
