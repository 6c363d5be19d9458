import WebSocket from 'ws';

/** TEST SCAFFOLDING: raw WebSocket upgrades, for the per-client socket cap. */

export interface Upgrade {
  /** 101 when the socket opened, else the status the server refused it with. */
  status: number;
  socket: WebSocket;
}

/** Opens a socket on /api/trpc with these headers and says how the server answered. */
export async function upgrade(url: string, headers: Record<string, string>): Promise<Upgrade> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/api/trpc`, {
    headers: { origin: url, ...headers },
  });
  const status = await new Promise<number>((resolve, reject) => {
    socket.on('open', () => resolve(101));
    socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.on('error', (error) => reject(error));
  });
  return { status, socket };
}

/** Closes the sockets and waits until each is closed on this side. */
export async function closeAll(upgrades: readonly Upgrade[]): Promise<void> {
  await Promise.all(
    upgrades.map(
      ({ socket }) =>
        new Promise<void>((resolve) => {
          if (socket.readyState === WebSocket.CLOSED) return resolve();
          socket.once('close', () => resolve());
          socket.terminate();
        }),
    ),
  );
}
