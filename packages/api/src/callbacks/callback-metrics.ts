import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AttemptOutcome, DeliveryState } from '../store/outbox.ts';

/** The callbacks' series on /metrics, in the server's registry (metrics.ts). */
export interface CallbackMetrics {
  attempt(outcome: AttemptOutcome): void;
  /** A delivery left `pending` for good, `ms` after its round began (the run's end). */
  finished(state: DeliveryState, ms: number): void;
}

export function registerCallbackMetrics(
  registry: Registry,
  counts: () => Record<DeliveryState, number>,
): CallbackMetrics {
  new Gauge({
    name: 'runbox_callback_deliveries_pending',
    help: 'Callback deliveries waiting for their next attempt (stored, so restarts keep them).',
    registers: [registry],
    collect() {
      this.set(counts().pending);
    },
  });
  const deliveries = new Counter({
    name: 'runbox_callback_deliveries_total',
    help: 'Callback deliveries finished since start, by outcome (delivered, failed, gone, refused).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const attempts = new Counter({
    name: 'runbox_callback_attempts_total',
    help: 'Callback attempts since start, by outcome (delivered, failed, gone, refused).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'runbox_callback_delivery_seconds',
    help: "From a run's end (or a redelivery) to the receiver's 2xx.",
    buckets: [0.01, 0.05, 0.1, 0.2, 0.5, 1, 5, 30, 120, 600, 3600],
    registers: [registry],
  });
  // Every outcome has a series from the start, so a rate over it is defined before the first.
  for (const outcome of ['delivered', 'failed', 'gone', 'refused']) {
    deliveries.inc({ outcome }, 0);
    attempts.inc({ outcome }, 0);
  }
  return {
    attempt(outcome) {
      attempts.inc({ outcome });
    },
    finished(state, ms) {
      if (state === 'pending') return;
      deliveries.inc({ outcome: state });
      if (state === 'delivered') latency.observe(Math.max(0, ms) / 1_000);
    },
  };
}
