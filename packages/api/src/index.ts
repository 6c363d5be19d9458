export type { AppRouter } from './router.ts';
export type { RunboxError, RunboxErrorCode, RunboxErrorDetails } from './errors/runbox-error.ts';
export * from './schemas/run-views.ts';
export { startRunbox, type RunningRunbox } from './boot.ts';
export { loadConfig, type ServerConfig } from './config.ts';
export { TRPC_PATH, type PageHandler } from './server.ts';
