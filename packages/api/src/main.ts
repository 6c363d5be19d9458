import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './config.ts';
import { startRunbox } from './boot.ts';
import type { PageHandler } from './server.ts';

const WEB_DIR = fileURLToPath(new URL('../../../apps/web', import.meta.url));

/** Next's pages when the web app is there and wanted; imported lazily so the API runs without it. */
async function webPages(web: 'next' | 'none', dev: boolean): Promise<PageHandler | undefined> {
  if (web !== 'next' || !existsSync(`${WEB_DIR}/page-handler.ts`)) return undefined;
  const { createNextPageHandler } = (await import(`${WEB_DIR}/page-handler.ts`)) as {
    createNextPageHandler(options: { dev: boolean; dir: string }): Promise<PageHandler>;
  };
  return createNextPageHandler({ dev, dir: WEB_DIR });
}

/** `./runbox start`: configuration from the environment, then the server, until SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    console.error(`runbox: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const pages = await webPages(config.web, config.dev);
  const runbox = await startRunbox(config, pages ? { pages } : {});
  const log = runbox.services.log;
  log.info(`runbox is serving on ${runbox.url}`);
  if (config.adminTokenGenerated) {
    // Printed once on stdout, outside the structured log, so log shipping does not carry it.
    console.log(
      `admin token (made for this start; set RUNBOX_ADMIN_TOKEN to keep one): ${config.adminToken}`,
    );
  }
  let signalled = false;
  const stop = (signal: string): void => {
    if (signalled) return;
    signalled = true;
    log.info(`${signal}: stopping (runs get ${config.shutdownDeadlineMs} ms to finish)`);
    const margin = setTimeout(() => {
      log.error('shutdown overran its deadline; exiting');
      process.exit(1);
    }, config.shutdownDeadlineMs + 5_000);
    margin.unref();
    runbox.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('runbox failed to start:', error);
  process.exit(1);
});
