import type { WorkerInfo } from '@runbox/cluster';
import type {
  Example,
  Executor,
  SandboxHost,
  SelfTestReport,
  ToolCatalog,
  WarmPoolStats,
} from '@runbox/executor';
import type { Callbacks } from './callbacks/index.ts';
import type { ServerConfig } from './config.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';
import type { ProjectDigests } from './project-digests.ts';
import type { OwnerCookies } from './owner-cookie.ts';
import type { RateLimiter } from './rate-limiter.ts';
import type { SessionRuntime } from './sessions/session-runtime.ts';
import type { Store } from './store/index.ts';

/** Everything the procedures use, made once at start (main.ts) and handed to every context. */
export interface Services {
  config: ServerConfig;
  host: SandboxHost;
  executor: Executor;
  store: Store;
  tools: ToolCatalog;
  examples: readonly Example[];
  rateLimiter: RateLimiter;
  /** Signs and checks the anonymous owner cookie (its key lives in the data directory). */
  ownerCookies: OwnerCookies;
  /** The sandbox self-test of this start. */
  selfTest: SelfTestReport;
  paths: { projects: string; artifacts: string };
  /** Projects and examples by the digest of their files, as workers ask for them. */
  projectDigests: ProjectDigests;
  /** The workers of the redis driver; null in the embedded default. */
  cluster: {
    workers(): Promise<WorkerInfo[]>;
    drain(name: string, draining: boolean): Promise<void>;
  } | null;
  /** This process's warm sandboxes per language; empty when it runs none (RUNBOX_WARM_SANDBOXES). */
  warmSandboxes(): Promise<WarmPoolStats[]>;
  /** When the executor last showed it is alive (ms since epoch). */
  heartbeat(): number;
  /** False once shutdown began. */
  accepting(): boolean;
  log: Logger;
  metrics: Metrics;
  /** Signed callbacks: the address rule at create, the deliverer (poke it after a redelivery). */
  callbacks: Callbacks;
  /** Sessions' kernels and the line of cells of each (sessions/). */
  sessions: SessionRuntime;
}
