import type { Executor, RunEvent, RunRecord } from '@runbox/executor';
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

export function createMetrics(sources: {
  executor: () => Executor;
  refusals: () => number;
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
