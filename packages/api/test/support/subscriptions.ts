import type { RunEvent } from '@runbox/executor';
import { TRPCClientError } from '@trpc/client';
import type { Client, ClientError } from './clients.ts';

/** TEST SCAFFOLDING: subscriptions collected into arrays. */

interface Unsubscribable {
  unsubscribe(): void;
}

export interface Handlers<T> {
  onData(value: T): void;
  onError(error: unknown): void;
  onComplete(): void;
}

export interface Collection<T> {
  /** What arrived so far (live: it grows). */
  items: T[];
  /** Resolves with every item once `until` says so; rejects on an error, a timeout or an early end. */
  done: Promise<T[]>;
  /** Resolves once `count` items have arrived (or rejects like `done`). */
  atLeast(count: number): Promise<T[]>;
  stop(): void;
}

/**
 * Subscribes and collects what arrives. `until` ends the collection (and the subscription); an
 * error or the subscription ending first rejects `done`, as does `timeoutMs` passing.
 */
export function collect<T>(
  subscribe: (handlers: Handlers<T>) => Unsubscribable,
  options: { until: (item: T, items: readonly T[]) => boolean; timeoutMs?: number },
): Collection<T> {
  const items: T[] = [];
  const waiters: { count: number; resolve: (items: T[]) => void }[] = [];
  let settle!: { resolve: (items: T[]) => void; reject: (error: unknown) => void };
  let finished = false;
  const done = new Promise<T[]>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // Callers may await only atLeast(); a rejection of `done` must not go unhandled then.
  done.catch(() => {});
  let subscription: Unsubscribable | null = null;
  const finish = (error: unknown): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    subscription?.unsubscribe();
    if (error === null) settle.resolve(items);
    else settle.reject(error);
  };
  const timer = setTimeout(
    () =>
      finish(
        new Error(
          `subscription timed out after ${items.length} items: ${JSON.stringify(items.slice(-5))}`,
        ),
      ),
    options.timeoutMs ?? 20_000,
  );
  subscription = subscribe({
    onData(value) {
      if (finished) return;
      items.push(value);
      for (const waiter of waiters.filter((w) => items.length >= w.count)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve([...items]);
      }
      if (options.until(value, items)) finish(null);
    },
    onError: (error) => finish(error),
    onComplete: () => finish(new Error(`subscription completed early after ${items.length} items`)),
  });
  if (finished) subscription.unsubscribe();
  return {
    items,
    done,
    atLeast(count) {
      if (items.length >= count) return Promise.resolve([...items]);
      return Promise.race([
        new Promise<T[]>((resolve) => waiters.push({ count, resolve })),
        done.then(() => {
          throw new Error(`ended with ${items.length} items, fewer than ${count}`);
        }),
      ]);
    },
    stop: () => finish(null),
  };
}

export interface TrackedEvent {
  /** The tracked id of the message that brought the event: the seq of its batch's last event. */
  id: string;
  event: RunEvent;
  /** Which message (0, 1, 2, …) of this subscription brought the event. */
  message: number;
}

/** runs.onOutput collected event by event (batches taken apart) until its `end` event. */
export function collectOutput(
  client: Client,
  runId: string,
  options: { lastEventId?: string; timeoutMs?: number } = {},
): Collection<TrackedEvent> {
  let messages = 0;
  return collect<TrackedEvent>(
    (handlers) =>
      client.runs.onOutput.subscribe(
        {
          id: runId,
          ...(options.lastEventId !== undefined ? { lastEventId: options.lastEventId } : {}),
        },
        {
          onData: (tracked) => {
            const message = messages++;
            for (const event of tracked.data.events)
              handlers.onData({ id: tracked.id, event, message });
          },
          onError: handlers.onError,
          onComplete: handlers.onComplete,
        },
      ),
    {
      until: (item) => item.event.type === 'end',
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    },
  );
}

/** The whole output of a run, from seq 1 to its end event. */
export async function fullOutput(client: Client, runId: string): Promise<RunEvent[]> {
  return (await collectOutput(client, runId).done).map((item) => item.event);
}

/** Waits for a subscription to fail and returns its error as a TRPCClientError. */
export async function subscriptionError<T>(
  subscribe: (handlers: Handlers<T>) => Unsubscribable,
  timeoutMs = 10_000,
): Promise<ClientError> {
  const collection = collect<T>(subscribe, { until: () => false, timeoutMs });
  try {
    const items = await collection.done;
    throw new Error(`expected the subscription to fail; it gave ${items.length} items`);
  } catch (error) {
    if (error instanceof TRPCClientError) return error as ClientError;
    throw error;
  }
}

/** The text of a run's output events, joined (line events end without their newline). */
export function outputLines(events: readonly RunEvent[]): string[] {
  return events.flatMap((event) => (event.type === 'output' ? [event.text] : []));
}

/**
 * Waits until the run printed its first line: its program is running inside its cgroup then.
 * (A cancel in the moment before that can be lost: see the cancel test in run-stream.test.ts.)
 */
export async function firstOutput(client: Client, runId: string): Promise<void> {
  const ended = (events: readonly RunEvent[]): boolean =>
    events.at(-1)?.type === 'output' || events.at(-1)?.type === 'end';
  const events = await watch(client, runId, ended).done;
  if (events.at(-1)?.type !== 'output') throw new Error(`run ${runId} ended before any output`);
}

/** Events of a run as they come, until `until` says so. */
export function watch(
  client: Client,
  runId: string,
  until: (events: readonly RunEvent[]) => boolean,
) {
  return collect<RunEvent>(
    (handlers) =>
      client.runs.onOutput.subscribe(
        { id: runId },
        {
          onData: (tracked) => {
            for (const event of tracked.data.events) handlers.onData(event);
          },
          onError: handlers.onError,
          onComplete: handlers.onComplete,
        },
      ),
    { until: (_event, events) => until(events) },
  );
}
