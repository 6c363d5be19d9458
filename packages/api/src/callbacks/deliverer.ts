import type {
  AttemptOutcome,
  AttemptRecord,
  Delivery,
  DeliveryState,
  Outbox,
} from '../store/outbox.ts';
import { describeRefusal, type AddressPolicy } from './address-policy.ts';
import type { CallbackConfig } from './callback-config.ts';
import type { CallbackMetrics } from './callback-metrics.ts';
import { nextAttemptAt, parseRetryAfter } from './retry-schedule.ts';
import { sendWebhook, type SendResult } from './send-webhook.ts';
import { webhookBody, webhookHeaders } from './webhook-payload.ts';

/**
 * Sends what the outbox holds: every pending delivery when it is due, a few at a time, each
 * attempt recorded before the next is planned. At least once: a delivery leaves `pending` only
 * after an attempt's outcome is stored, so one in flight when the server stops (or dies) is sent
 * again after the restart, with the same webhook-id, and the receiver tells the two apart by it.
 */
export interface Deliverer {
  /** Picks up what is due (after a restart: everything still pending) and keeps going. */
  start(): void;
  /** Something was enqueued or redelivered: look now rather than at the next timer. */
  poke(): void;
  /** Aborts attempts in flight (not recorded: they stay due) and stops. */
  stop(): Promise<void>;
}

export interface DelivererLog {
  info(message: string): void;
  warn(message: string): void;
}

export interface DelivererOptions {
  outbox: Outbox;
  config: CallbackConfig;
  policy: AddressPolicy;
  log: DelivererLog;
  metrics?: CallbackMetrics;
  /** Attempts at once. Default 4. */
  concurrency?: number;
  /** Looks at the outbox at least this often, whatever it was told. Default 30 s. */
  pollMs?: number;
  now?: () => number;
  random?: () => number;
}

/** Read from a receiver's answer before the connection is closed. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

export function createDeliverer(options: DelivererOptions): Deliverer {
  const { outbox, config, policy, log } = options;
  const concurrency = options.concurrency ?? 4;
  const pollMs = options.pollMs ?? 30_000;
  const now = options.now ?? Date.now;
  const inFlight = new Map<string, { controller: AbortController; done: Promise<void> }>();
  let timer: NodeJS.Timeout | null = null;
  let started = false;
  let stopped = false;

  function secretOf(secretId: string): string | null {
    if (secretId === 'server') return config.serverSecret;
    if (secretId.startsWith('key:')) return config.keySecrets.get(secretId.slice(4)) ?? null;
    return null;
  }

  function schedule(delayMs: number): void {
    if (stopped || !started) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(pump, Math.max(0, Math.min(delayMs, pollMs)));
    timer.unref();
  }

  function pump(): void {
    timer = null;
    if (stopped) return;
    try {
      const free = concurrency - inFlight.size;
      if (free > 0) {
        for (const delivery of outbox.due(now(), free, new Set(inFlight.keys()))) begin(delivery);
      }
      if (inFlight.size < concurrency) {
        const next = outbox.nextDueAt(new Set(inFlight.keys()));
        schedule(next === null ? pollMs : next - now());
      }
    } catch (error) {
      log.warn(`callbacks: reading the outbox failed: ${String(error)}`);
      schedule(pollMs);
    }
  }

  function begin(delivery: Delivery): void {
    const controller = new AbortController();
    const done = attempt(delivery, controller.signal)
      .catch((error: unknown) => {
        log.warn(`callbacks: delivery ${delivery.id} failed unexpectedly: ${String(error)}`);
      })
      .finally(() => {
        inFlight.delete(delivery.id);
        // A slot is free: the next due delivery may go.
        schedule(0);
      });
    inFlight.set(delivery.id, { controller, done });
  }

  async function attempt(delivery: Delivery, signal: AbortSignal): Promise<void> {
    const at = now();
    const secret = secretOf(delivery.secretId);
    let result: SendResult | null = null;
    if (secret !== null) {
      const body = webhookBody(delivery, config.publicUrl);
      result = await sendWebhook({
        url: delivery.url,
        body,
        headers: webhookHeaders({ id: delivery.id, secret, body, now: at }),
        policy,
        timeoutMs: config.timeoutMs,
        maxResponseBytes: MAX_RESPONSE_BYTES,
        signal,
      });
      // Stopping: nothing is recorded, so the delivery is due again at the next start.
      if (signal.aborted) return;
    }
    const record = decide(delivery, result, at, now());
    const updated = outbox.recordAttempt(delivery.id, record);
    options.metrics?.attempt(record.outcome);
    if (record.state !== 'pending')
      options.metrics?.finished(record.state, now() - delivery.roundStartedAt);
    const where = `callback ${delivery.id} of run ${delivery.runId} (attempt ${updated?.attempts ?? '?'})`;
    if (record.state === 'delivered') log.info(`${where}: delivered (${record.status})`);
    else if (record.state === 'pending')
      log.info(
        `${where}: ${record.error}; next try in ${Math.round(((record.nextAttemptAt ?? at) - now()) / 1000)} s`,
      );
    else log.warn(`${where}: ${record.state}: ${record.error}`);
  }

  /** The attempt's outcome and what follows: delivered, another try, or the end of it. */
  function decide(
    delivery: Delivery,
    result: SendResult | null,
    at: number,
    end: number,
  ): AttemptRecord {
    const base = { at, durationMs: end - at };
    if (result === null) {
      return {
        ...base,
        address: null,
        status: null,
        outcome: 'refused',
        error: `no secret ${JSON.stringify(delivery.secretId)} is configured any more`,
        state: 'refused',
        nextAttemptAt: null,
      };
    }
    if (result.kind === 'refused') {
      return {
        ...base,
        address: result.address,
        status: null,
        outcome: 'refused',
        error: `${new URL(delivery.url).hostname} resolved to ${result.address}, ${describeRefusal(result.refused)}, which is not called (RUNBOX_CALLBACK_ALLOW_NETWORKS)`,
        state: 'refused',
        nextAttemptAt: null,
      };
    }
    if (result.kind === 'answered' && result.status >= 200 && result.status < 300) {
      return {
        ...base,
        address: result.address,
        status: result.status,
        outcome: 'delivered',
        error: null,
        state: 'delivered',
        nextAttemptAt: null,
      };
    }
    if (result.kind === 'answered' && result.status === 410) {
      return {
        ...base,
        address: result.address,
        status: 410,
        outcome: 'gone',
        error: 'the receiver answered 410 Gone: no more tries',
        state: 'gone',
        nextAttemptAt: null,
      };
    }
    const status = result.kind === 'answered' ? result.status : null;
    const problem =
      result.kind === 'error'
        ? result.message
        : result.status >= 300 && result.status < 400
          ? `HTTP ${result.status} (redirects are not followed)`
          : `HTTP ${result.status}`;
    const next = nextAttemptAt({
      failedInRound: delivery.roundAttempts + 1,
      schedule: config.retryScheduleMs,
      retryAfterMs: result.kind === 'answered' ? parseRetryAfter(result.retryAfter, end) : null,
      now: end,
      roundStartedAt: delivery.roundStartedAt,
      maxAgeMs: config.maxAgeMs,
      ...(options.random ? { random: options.random } : {}),
    });
    const outcome: AttemptOutcome = 'failed';
    const state: DeliveryState = next === null ? 'failed' : 'pending';
    return {
      ...base,
      address: result.address,
      status,
      outcome,
      error: next === null ? `${problem}; no tries left` : problem,
      state,
      nextAttemptAt: next,
    };
  }

  return {
    start() {
      if (started || stopped) return;
      started = true;
      schedule(0);
    },
    poke() {
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const pending = [...inFlight.values()];
      for (const entry of pending) entry.controller.abort(new Error('runbox is stopping'));
      await Promise.all(pending.map((entry) => entry.done));
    },
  };
}
