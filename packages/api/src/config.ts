import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import {
  ConfigError,
  ENGINE_DEFAULTS,
  hostEnvFrom,
  maximumsFromEnv,
  type HostEnv,
  type SandboxLimits,
} from '@runbox/executor';
import { checkRedisUrl } from '@runbox/cluster';
import { z } from 'zod';
import { parseTrustedProxy, type TrustedProxy } from './client-address.ts';
import { callbackConfigFrom, type CallbackConfig } from './callbacks/callback-config.ts';
import { restConfigFrom, type RestConfig } from './rest/rest-config.ts';
import { sessionConfigFrom, type SessionConfig } from './sessions/session-config.ts';

/**
 * Every environment variable of the server, read and validated here and nowhere else. The README's
 * configuration table lists the same names and defaults.
 */
const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const serverEnvSchema = z.object({
  /** 0 takes any free port (tests). */
  PORT: intFrom(0, 65_535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  RUNBOX_DATA_DIR: z.string().min(1).default('./data'),
  RUNBOX_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** name:key pairs, comma-separated: scripts authenticate with `Authorization: Bearer <key>`. */
  RUNBOX_API_KEYS: z.string().default(''),
  /** Unset: the cores (embedded), or no cap beyond the workers' own (redis). */
  RUNBOX_CONCURRENCY: intFrom(1, 256).optional(),
  RUNBOX_MAX_QUEUE: intFrom(1, 100_000).default(ENGINE_DEFAULTS.maxQueueLength),
  RUNBOX_RUNS_PER_HOUR: intFrom(1, 1_000_000).default(120),
  RUNBOX_CONCURRENT_RUNS_PER_OWNER: intFrom(1, 10_000).default(4),
  /** New runs a second from all clients together (admins exempt). */
  RUNBOX_MAX_CREATES_PER_SECOND: intFrom(1, 10_000).default(20),
  /** `off`: only API keys and the admin token may create runs, upload or subscribe. */
  RUNBOX_ANONYMOUS: z.enum(['on', 'off']).default('on'),
  /**
   * Proxies whose X-Forwarded-For is believed: addresses or CIDR networks, comma-separated (e.g.
   * `127.0.0.1,::1` for a proxy on this host). Empty: the header is ignored.
   */
  RUNBOX_TRUST_PROXY: z
    .string()
    .default('')
    .transform((text, ctx) => {
      const proxies: TrustedProxy[] = [];
      for (const entry of text.split(',').filter((part) => part.trim() !== '')) {
        const proxy = parseTrustedProxy(entry);
        if (proxy) proxies.push(proxy);
        else
          ctx.addIssue({
            code: 'custom',
            message: `${JSON.stringify(entry.trim())} is not an IP address or a CIDR network (e.g. 10.0.0.0/8)`,
          });
      }
      return proxies;
    }),
  // The run limits' maximums (RUNBOX_MAX_WALL_TIME_MS, RUNBOX_MAX_MEMORY_BYTES, ...) are read by
  // the executor's maximumsFromEnv, as a worker reads them.
  RUNBOX_MAX_OUTPUT_LINES: intFrom(100, 100_000_000).default(ENGINE_DEFAULTS.maxOutputLines),
  /** `on`: e-mail addresses, phone, card and IBAN numbers in output become tokens (`<EMAIL_1>`);
   * a run's `outputFilters.pii` overrides it. */
  RUNBOX_PII_FILTER: z.enum(['off', 'on']).default('off'),
  /** Origins allowed besides the server's own (comma-separated, e.g. https://runbox.example.org). */
  RUNBOX_ALLOWED_ORIGINS: z.string().default(''),
  RUNBOX_SHUTDOWN_DEADLINE_MS: intFrom(0, 3_600_000).default(10_000),
  RUNBOX_WS_MAX_MESSAGE_BYTES: intFrom(1_024, 16 * 1024 * 1024).default(64 * 1024),
  RUNBOX_WS_MAX_SUBSCRIPTIONS: intFrom(1, 10_000).default(32),
  RUNBOX_WS_MAX_SOCKETS_PER_CLIENT: intFrom(1, 10_000).default(16),
  RUNBOX_UPLOAD_MAX_BYTES: intFrom(1_024, 1024 * 1024 * 1024).default(20 * 1024 * 1024),
  RUNBOX_EXAMPLES_DIR: z.string().min(1).default('examples'),
  RUNBOX_WEB: z.enum(['next', 'none']).default('next'),
  RUNBOX_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  RUNBOX_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('production'),
  /** Set: runs are BullMQ jobs in this Redis, run by workers (`./runbox worker`). */
  RUNBOX_REDIS_URL: z.string().min(1).optional(),
  /** `api`: this process runs no worker of its own (needs RUNBOX_REDIS_URL). */
  RUNBOX_ROLE: z.enum(['all', 'api']).default('all'),
  /** What workers present to fetch project files and send artifacts; unset: those routes are off. */
  RUNBOX_WORKER_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** A worker that has not renewed its lease for this long is gone; its runs end interrupted. */
  RUNBOX_WORKER_LEASE_MS: intFrom(1_000, 600_000).default(10_000),
  /** Signed callbacks (docs/callbacks.md); the rules of each are in callbacks/callback-config.ts. */
  RUNBOX_CALLBACK_URL: z.string().min(1).optional(),
  RUNBOX_CALLBACK_SECRET: z.string().min(1).optional(),
  RUNBOX_CALLBACK_KEY_SECRETS: z.string().default(''),
  RUNBOX_CALLBACK_ALLOW_NETWORKS: z.string().default(''),
  RUNBOX_CALLBACK_RETRY_SCHEDULE_MS: z.string().optional(),
  RUNBOX_CALLBACK_MAX_AGE_MS: intFrom(1_000, 30 * 86_400_000).default(86_400_000),
  RUNBOX_CALLBACK_TIMEOUT_MS: intFrom(100, 120_000).default(10_000),
  /** Where clients reach runbox, e.g. https://runbox.example.org (links in callbacks). */
  RUNBOX_PUBLIC_URL: z.string().min(1).optional(),
  /** Set: a signed heartbeat POST to this control plane every interval. */
  RUNBOX_HEARTBEAT_URL: z.string().min(1).optional(),
  RUNBOX_HEARTBEAT_INTERVAL_MS: intFrom(1_000, 3_600_000).default(30_000),
  /** REST (docs/rest.md): longest `wait=true` before a 202; 0 answers 202 at once. */
  RUNBOX_REST_WAIT_MAX_MS: intFrom(0, 3_600_000).default(60_000),
  /** REST: UTF-8 bytes of stdout (and of stderr) one answer carries at most. */
  RUNBOX_REST_OUTPUT_MAX_BYTES: intFrom(1_024, 64 * 1024 * 1024).default(1024 * 1024),
  /** REST: a comment on an idle event stream this often, so proxies keep it open. */
  RUNBOX_REST_SSE_HEARTBEAT_MS: intFrom(100, 600_000).default(15_000),
});

export interface ServerConfig {
  port: number;
  host: string;
  dataDir: string;
  adminToken: string;
  /** True when the admin token was made at start because none was configured. */
  adminTokenGenerated: boolean;
  apiKeys: ReadonlyMap<string, string>;
  concurrency: number;
  maxQueueLength: number;
  rateLimits: { runsPerHour: number; concurrentRunsPerOwner: number };
  /** New runs a second from all clients together; admins exempt. */
  maxCreatesPerSecond: number;
  /** False: anonymous browsers own nothing; only API keys and the admin token may create runs. */
  anonymous: boolean;
  /** Proxies whose X-Forwarded-For names the client; none: the header is ignored. */
  trustProxy: readonly TrustedProxy[];
  maximums: SandboxLimits;
  /** Lines (pieces of long lines included) a run may print before it ends as output_limit. */
  maxOutputLines: number;
  /** Whether runs that do not say (`outputFilters.pii`) get personal data in output tokenized. */
  piiFilter: boolean;
  allowedOrigins: readonly string[];
  shutdownDeadlineMs: number;
  ws: { maxMessageBytes: number; maxSubscriptions: number; maxSocketsPerClient: number };
  uploadMaxBytes: number;
  examplesDir: string;
  web: 'next' | 'none';
  /** Bearer token for /metrics; the admin token works too. */
  metricsToken: string | null;
  logLevel: string;
  dev: boolean;
  executor: HostEnv;
  /** Null: the embedded default (runs wait and run in this process). */
  cluster: ClusterConfig | null;
  /** Signed callbacks at the end of runs. */
  callbacks: CallbackConfig;
  /** The REST surface under /api/v1: waits, output caps, event-stream heartbeats. */
  rest: RestConfig;
  /** Sessions: how many, their idle TTL and lifetime, snapshots (sessions/session-config.ts). */
  sessions: SessionConfig;
}

export interface ClusterConfig {
  redisUrl: string;
  /** RUNBOX_CONCURRENCY when set: runs at once across all workers. Null: the workers' own. */
  concurrencyCap: number | null;
  /** `all`: this process also runs a worker; `api`: it only accepts and follows runs. */
  role: 'all' | 'api';
  workerToken: string | null;
  leaseMs: number;
}

/** The executor's class: one configuration error for the server's variables and the executor's. */
export { ConfigError };

function parseApiKeys(text: string): Map<string, string> {
  const keys = new Map<string, string>();
  for (const pair of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const [name, key] = pair.split(':');
    if (!name || !key || !/^[A-Za-z0-9_-]{1,64}$/.test(name) || key.length < 24) {
      throw new ConfigError(
        'RUNBOX_API_KEYS',
        'each entry must be name:key, the key at least 24 characters',
      );
    }
    keys.set(key, name);
  }
  return keys;
}

export function loadConfig(env: NodeJS.ProcessEnv, cwd = process.cwd()): ServerConfig {
  const parsed = serverEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(String(issue?.path[0] ?? '?'), issue?.message ?? 'invalid');
  }
  const value = parsed.data;
  const executor = hostEnvFrom(env);
  if (value.RUNBOX_REDIS_URL !== undefined) checkRedisUrl(value.RUNBOX_REDIS_URL);
  else if (value.RUNBOX_ROLE === 'api')
    throw new ConfigError(
      'RUNBOX_ROLE',
      'api needs RUNBOX_REDIS_URL (the workers take runs from it)',
    );
  const apiKeys = parseApiKeys(value.RUNBOX_API_KEYS);
  return {
    port: value.PORT,
    host: value.HOST,
    dataDir: resolve(cwd, value.RUNBOX_DATA_DIR),
    adminToken: value.RUNBOX_ADMIN_TOKEN ?? randomBytes(24).toString('base64url'),
    adminTokenGenerated: value.RUNBOX_ADMIN_TOKEN === undefined,
    apiKeys,
    concurrency: value.RUNBOX_CONCURRENCY ?? ENGINE_DEFAULTS.concurrency,
    maxQueueLength: value.RUNBOX_MAX_QUEUE,
    rateLimits: {
      runsPerHour: value.RUNBOX_RUNS_PER_HOUR,
      concurrentRunsPerOwner: value.RUNBOX_CONCURRENT_RUNS_PER_OWNER,
    },
    maxCreatesPerSecond: value.RUNBOX_MAX_CREATES_PER_SECOND,
    anonymous: value.RUNBOX_ANONYMOUS === 'on',
    trustProxy: value.RUNBOX_TRUST_PROXY,
    maximums: maximumsFromEnv(env),
    maxOutputLines: value.RUNBOX_MAX_OUTPUT_LINES,
    piiFilter: value.RUNBOX_PII_FILTER === 'on',
    allowedOrigins: value.RUNBOX_ALLOWED_ORIGINS.split(',')
      .map((o) => o.trim())
      .filter(Boolean),
    shutdownDeadlineMs: value.RUNBOX_SHUTDOWN_DEADLINE_MS,
    ws: {
      maxMessageBytes: value.RUNBOX_WS_MAX_MESSAGE_BYTES,
      maxSubscriptions: value.RUNBOX_WS_MAX_SUBSCRIPTIONS,
      maxSocketsPerClient: value.RUNBOX_WS_MAX_SOCKETS_PER_CLIENT,
    },
    uploadMaxBytes: value.RUNBOX_UPLOAD_MAX_BYTES,
    examplesDir: resolve(cwd, value.RUNBOX_EXAMPLES_DIR),
    web: value.RUNBOX_WEB,
    metricsToken: value.RUNBOX_METRICS_TOKEN ?? null,
    logLevel: value.RUNBOX_LOG_LEVEL,
    dev: value.NODE_ENV === 'development',
    executor,
    cluster:
      value.RUNBOX_REDIS_URL === undefined
        ? null
        : {
            redisUrl: value.RUNBOX_REDIS_URL,
            concurrencyCap: value.RUNBOX_CONCURRENCY ?? null,
            role: value.RUNBOX_ROLE,
            workerToken: value.RUNBOX_WORKER_TOKEN ?? null,
            leaseMs: value.RUNBOX_WORKER_LEASE_MS,
          },
    callbacks: callbackConfigFrom(value, new Set(apiKeys.values())),
    rest: restConfigFrom(value),
    sessions: sessionConfigFrom(env),
  };
}
