export { checkRedisUrl, redactedRedisUrl } from './redis-connection.ts';
export { clusterKeys, type ClusterKeys } from './cluster-keys.ts';
export {
  createRedisDriver,
  REDIS_DRIVER_DEFAULTS,
  type RedisDriver,
  type RedisDriverOptions,
} from './redis-driver.ts';
export {
  createRunWorker,
  type RunWorker,
  type RunWorkerOptions,
  type ProjectFiles,
} from './run-worker.ts';
export type { WorkerInfo } from './worker-lease.ts';
export * from './files/index.ts';
