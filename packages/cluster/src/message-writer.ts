import type { RunEventInput } from '@runbox/executor';
import type { Redis } from 'ioredis';
import { encodeMessage, type RunMessage } from './run-messages.ts';

export interface MessageWriter {
  /** Queues a message; what a turn of the event loop queued goes to Redis in one round trip. */
  send(message: RunMessage): void;
  /** One event of a run: joined with the run's other events of this turn into one message. */
  event(runId: string, event: RunEventInput): void;
  /** Resolves once everything queued so far is in the stream. */
  flush(): Promise<void>;
  /** Events queued or being written, not yet in the stream. */
  backlog(): number;
}

/**
 * Writes workers' messages to the stream in order: a batch per turn of the event loop, written
 * only after the one before it, so the API reads every run's messages in the order they were
 * made. The stream is capped (`MAXLEN ~`): the API reads it as it comes, and what a restarted API
 * missed beyond the cap is in no run's interest to keep in Redis forever.
 */
export function createMessageWriter(
  redis: Redis,
  options: { stream: string; worker: string; maxLength: number; onError(error: unknown): void },
): MessageWriter {
  let pending: RunMessage[] = [];
  let backlog = 0;
  let scheduled = false;
  let chain: Promise<void> = Promise.resolve();

  function write(batch: RunMessage[]): Promise<void> {
    const pipeline = redis.pipeline();
    for (const message of batch) {
      pipeline.xadd(
        options.stream,
        'MAXLEN',
        '~',
        String(options.maxLength),
        '*',
        'm',
        encodeMessage(message),
      );
    }
    return pipeline.exec().then((replies) => {
      const failed = replies?.find(([error]) => error !== null);
      if (failed?.[0]) throw failed[0];
    });
  }

  function drain(): void {
    scheduled = false;
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const events = batch.reduce(
      (sum, message) => sum + (message.kind === 'events' ? message.events.length : 1),
      0,
    );
    chain = chain
      .then(() => write(batch))
      .catch((error: unknown) => options.onError(error))
      .finally(() => {
        backlog -= events;
      });
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(drain);
  }

  return {
    send(message) {
      // A copy: later events of the run may be joined to it, never to the caller's object.
      pending.push(
        message.kind === 'events' ? { ...message, events: [...message.events] } : message,
      );
      backlog += message.kind === 'events' ? message.events.length : 1;
      schedule();
    },
    event(runId, event) {
      backlog += 1;
      const last = pending.at(-1);
      if (last?.kind === 'events' && last.runId === runId) last.events.push(event);
      else pending.push({ kind: 'events', runId, worker: options.worker, events: [event] });
      schedule();
    },
    backlog: () => backlog,
    async flush() {
      drain();
      await chain;
    },
  };
}
