import { loadConfig } from './config.ts';
import { startRunbox } from './boot.ts';

/** `./runbox start`: configuration from the environment, then the server, until SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    console.error(`runbox: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const runbox = await startRunbox(config);
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
