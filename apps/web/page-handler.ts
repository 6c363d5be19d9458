import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import next from 'next';

/** The shape packages/api's server takes for pages (PageHandler in packages/api/src/server.ts). */
export interface NextPageHandler {
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  upgrade?(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/**
 * Next's request handler for every path the API server does not answer itself. In development
 * Next's own hot-reload socket is upgraded here (the API server keeps /api/trpc for itself).
 */
export async function createNextPageHandler(options: {
  dev: boolean;
  dir: string;
}): Promise<NextPageHandler> {
  const app = next({ dev: options.dev, dir: options.dir });
  await app.prepare();
  const handle = app.getRequestHandler();
  const handler: NextPageHandler = {
    handle: async (req, res) => {
      await handle(req, res);
    },
  };
  if (options.dev) {
    const upgrade = app.getUpgradeHandler();
    handler.upgrade = (req, socket, head) => {
      void upgrade(req, socket, head);
    };
  }
  return handler;
}
