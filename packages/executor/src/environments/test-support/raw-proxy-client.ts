import { once } from 'node:events';
import { connect, type Server, type Socket } from 'node:net';

/**
 * TEST SCAFFOLDING ONLY: raw clients of the egress proxy's socket and loopback servers for the
 * proxy's tests (egress-proxy.test.ts, egress-proxy.hostile.test.ts). Nothing outside tests may
 * import this.
 */

/** Listens on `host` (a free port unless one is given); the port it got. */
export function listen(server: Server, host = '127.0.0.1', port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('no port'));
      else resolve(address.port);
    });
  });
}

/** A client connection to the proxy that reads everything into `received` (bytes as latin1). */
export class RawClient {
  readonly socket: Socket;
  received = '';
  private waiters: (() => void)[] = [];
  constructor(socketPath: string) {
    this.socket = connect({ path: socketPath });
    this.socket.setEncoding('latin1');
    this.socket.on('data', (chunk: string) => {
      this.received += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.socket.on('close', () => {
      for (const wake of this.waiters.splice(0)) wake();
    });
    // A reset by the proxy shows as the connection closing: what it sent is in `received`.
    this.socket.on('error', () => {});
  }

  /**
   * Resolves once `received` contains `wanted` (or satisfies it); rejects if the connection
   * closes first.
   */
  async waitFor(wanted: string | ((received: string) => boolean)): Promise<void> {
    const done = typeof wanted === 'string' ? () => this.received.includes(wanted) : wanted;
    while (!done(this.received)) {
      if (this.socket.destroyed || this.socket.readableEnded)
        throw new Error(`closed early; got ${JSON.stringify(this.received)}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves once the connection closed, with everything it received. */
  async closed(): Promise<string> {
    if (!this.socket.closed) await once(this.socket, 'close');
    return this.received;
  }
}

/** Sends `text` on a new connection and reads everything until the proxy closes it. */
export function rawExchange(socketPath: string, text: string | Buffer): Promise<string> {
  const client = new RawClient(socketPath);
  client.socket.write(text);
  return client.closed();
}
