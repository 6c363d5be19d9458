import { pino } from 'pino';
import { redactedRedisUrl } from './redis-connection.ts';
import { startWorker } from './worker-boot.ts';
import { loadWorkerConfig } from './worker-config.ts';

/** `./runbox worker`: configuration from the environment, a worker, until SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadWorkerConfig(process.env);
  } catch (error) {
    console.error(`runbox worker: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  const log = pino({
    level: config.logLevel,
    base: { service: 'runbox-worker', worker: config.name },
  });
  const started = await startWorker(config, { log });
  log.info(
    `worker ${config.name} takes runs from ${redactedRedisUrl(config.redisUrl)} (concurrency ${config.concurrency})`,
  );
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info(`${signal}: taking no new run; letting running ones finish`);
    started.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error('runbox worker failed to start:', error);
  process.exit(1);
});
