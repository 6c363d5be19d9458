import type { WorkerInfo } from '@runbox/cluster';
import type { CheckerStats, Executor, RunEvent, RunRecord, WarmPoolStats } from '@runbox/executor';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What /metrics shows, in Prometheus text. One registry per server (tests start several). */
export interface Metrics {
  registry: Registry;
  observe(run: RunRecord, event: RunEvent): void;
  socketOpened(): void;
  socketClosed(): void;
  subscriptionStarted(): void;
  subscriptionEnded(): void;
}

/** How long a scrape waits for Redis to list the workers before it goes on without them. */
export const WORKERS_SCRAPE_TIMEOUT_MS = 2_000;

export function createMetrics(sources: {
  executor: () => Executor;
  refusals: () => number;
  /** The workers of the redis driver; absent or null in the embedded default (no worker series). */
  cluster?: () => { workers(): Promise<WorkerInfo[]> } | null;
  /** The long-lived syntax checkers per language; absent: no checker series. */
  syntaxCheckers?: () => Readonly<Record<string, CheckerStats>>;
  warmSandboxes?: () => Promise<readonly WarmPoolStats[]>;
}): Metrics {
  const registry = new Registry();
  const runsTotal = new Counter({
    name: 'runbox_runs_total',
    help: 'Runs ended, by end state.',
    labelNames: ['state'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'runbox_run_duration_seconds',
    help: 'Wall time of sandboxed runs.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const queueWait = new Histogram({
    name: 'runbox_queue_wait_seconds',
    help: 'Time runs waited in the queue before starting.',
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  const sandboxStart = new Histogram({
    name: 'runbox_sandbox_start_seconds',
    help: 'From a run leaving the queue to its program being spawned (workspace, files, cgroup).',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const outputBytes = new Counter({
    name: 'runbox_output_bytes_total',
    help: 'Bytes of output runs produced, by stream.',
    labelNames: ['stream'],
    registers: [registry],
  });
  const sockets = new Gauge({
    name: 'runbox_websocket_connections',
    help: 'Open WebSocket connections.',
    registers: [registry],
  });
  const subscriptions = new Gauge({
    name: 'runbox_websocket_subscriptions',
    help: 'Active subscriptions.',
    registers: [registry],
  });
  new Gauge({
    name: 'runbox_queue_length',
    help: 'Runs waiting.',
    registers: [registry],
    collect() {
      this.set(sources.executor().queue().waiting.length);
    },
  });
  new Gauge({
    name: 'runbox_runs_running',
    help: 'Runs running now.',
    registers: [registry],
    collect() {
      this.set(sources.executor().queue().running.length);
    },
  });
  new Gauge({
    name: 'runbox_rate_limit_refusals',
    help: 'Run creations refused by rate limits since start.',
    registers: [registry],
    collect() {
      this.set(sources.refusals());
    },
  });
  registerWorkerGauges(registry, () => sources.cluster?.() ?? null);
  if (sources.syntaxCheckers) registerCheckerGauges(registry, sources.syntaxCheckers);
  if (sources.warmSandboxes) registerWarmGauges(registry, sources.warmSandboxes);

  return {
    registry,
    observe(run, event) {
      if (event.type === 'state' && event.state === 'running' && run.startedAt !== null) {
        queueWait.observe((run.startedAt - run.queuedAt) / 1000);
      }
      if (event.type !== 'end') return;
      const result = event.result;
      runsTotal.inc({ state: result.state });
      outputBytes.inc({ stream: 'stdout' }, result.outputBytes.stdout);
      outputBytes.inc({ stream: 'stderr' }, result.outputBytes.stderr);
      if (result.startedAt !== null && result.durationMs > 0) {
        duration.observe(result.durationMs / 1000);
        if (run.startedAt !== null)
          sandboxStart.observe(Math.max(0, result.startedAt - run.startedAt) / 1000);
      }
    },
    socketOpened: () => sockets.inc(),
    socketClosed: () => sockets.dec(),
    subscriptionStarted: () => subscriptions.inc(),
    subscriptionEnded: () => subscriptions.dec(),
  };
}

/**
 * Per-worker gauges, labelled `worker`, read from the workers' leases at scrape time. The four
 * gauges of one scrape share one read of Redis; a worker whose lease lapsed has no series.
 */
function registerWorkerGauges(
  registry: Registry,
  cluster: () => { workers(): Promise<WorkerInfo[]> } | null,
): void {
  let reading: Promise<WorkerInfo[]> | null = null;
  // The registry collects every metric at once, so the first gauge's read is the others' too.
  const workers = (): Promise<WorkerInfo[]> => {
    reading ??= listWorkers(cluster()).finally(() => {
      reading = null;
    });
    return reading;
  };
  const gauge = (name: string, help: string, value: (worker: WorkerInfo, now: number) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['worker'],
      registers: [registry],
      async collect() {
        const list = await workers();
        const now = Date.now();
        this.reset();
        for (const worker of list) this.set({ worker: worker.name }, value(worker, now));
      },
    });
  gauge('runbox_worker_running', 'Runs a worker is running now.', (worker) => worker.running);
  gauge(
    'runbox_worker_concurrency',
    'Runs a worker takes at once.',
    (worker) => worker.concurrency,
  );
  gauge(
    'runbox_worker_heartbeat_age_seconds',
    'Since a worker last renewed its lease.',
    (worker, now) => Math.max(0, now - worker.heartbeatAt) / 1000,
  );
  gauge(
    'runbox_worker_draining',
    'Whether a worker is draining (1: it takes no new run).',
    (worker) => (worker.draining ? 1 : 0),
  );
}

/**
 * The live workers, or none: an unreachable Redis must not fail or hold up the whole scrape
 * (its commands wait for a reconnect), so after a while the scrape goes on without them.
 */
async function listWorkers(
  cluster: { workers(): Promise<WorkerInfo[]> } | null,
): Promise<WorkerInfo[]> {
  if (!cluster) return [];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<WorkerInfo[]>((resolve) => {
    timer = setTimeout(() => resolve([]), WORKERS_SCRAPE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([cluster.workers().catch(() => []), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** One gauge per [name, help, value of an entry], labelled `language`, read at scrape time. */
type LanguageGauges<Entry> = readonly [string, string, (entry: Entry) => number][];

function registerLanguageGauges<Entry>(
  registry: Registry,
  gauges: LanguageGauges<Entry>,
  entries: () => Promise<readonly (readonly [string, Entry])[]>,
): void {
  for (const [name, help, value] of gauges) {
    new Gauge({
      name,
      help,
      labelNames: ['language'],
      registers: [registry],
      async collect() {
        const read = await entries();
        this.reset();
        for (const [language, entry] of read) this.set({ language }, value(entry));
      },
    });
  }
}

/** The syntax checkers' gauges, read from the pool at scrape time. */
function registerCheckerGauges(
  registry: Registry,
  stats: () => Readonly<Record<string, CheckerStats>>,
): void {
  const gauges: LanguageGauges<CheckerStats> = [
    ['runbox_syntax_checkers_live', 'Syntax checkers alive now.', (entry) => entry.live],
    [
      'runbox_syntax_checkers_started',
      'Syntax checkers started since the server started.',
      (entry) => entry.started,
    ],
    [
      'runbox_syntax_checks_answered',
      'Syntax checks a long-lived checker answered since the server started.',
      (entry) => entry.answered,
    ],
    [
      'runbox_syntax_checkers_memory_bytes',
      "The live checkers' memory, at their last samples.",
      (entry) => entry.memoryBytes,
    ],
  ];
  registerLanguageGauges(registry, gauges, () => Promise.resolve(Object.entries(stats())));
}

/** The warm sandboxes' gauges, read from the pools at scrape time. */
function registerWarmGauges(
  registry: Registry,
  stats: () => Promise<readonly WarmPoolStats[]>,
): void {
  const gauges: LanguageGauges<WarmPoolStats> = [
    ['runbox_warm_sandboxes_size', 'Warm sandboxes wanted ready.', (entry) => entry.size],
    ['runbox_warm_sandboxes_ready', 'Warm sandboxes ready now.', (entry) => entry.ready],
    ['runbox_warm_sandboxes_starting', 'Warm sandboxes starting now.', (entry) => entry.starting],
    [
      'runbox_warm_sandbox_hits',
      'Runs that took a warm sandbox since the server started.',
      (entry) => entry.hits,
    ],
    [
      'runbox_warm_sandbox_misses',
      'Runs of a language with warm sandboxes that started cold (none ready, or other limits).',
      (entry) => entry.misses,
    ],
    [
      'runbox_warm_sandbox_refill_seconds',
      'Median time from spawn to ready over the last refills.',
      (entry) => (entry.refillMsP50 ?? 0) / 1000,
    ],
    [
      'runbox_warm_sandboxes_idle_memory_bytes',
      'Memory the ready warm sandboxes hold while they wait.',
      (entry) => entry.idleMemoryBytes,
    ],
  ];
  registerLanguageGauges(registry, gauges, async () =>
    (await stats()).map((entry) => [entry.language, entry] as const),
  );
}
