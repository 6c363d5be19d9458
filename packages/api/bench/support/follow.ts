import type { RunEvent } from '@runbox/executor';
import type { ApiClient } from './clients.ts';

export interface Following {
  /** Settles when the server ends the subscription (after the run's `end`), or on error/timeout. */
  done: Promise<void>;
  /** Date.now() when the subscription was asked for. */
  subscribedAt: number;
}

/**
 * Subscribes to `runs.onOutput` from seq 0 and hands every event to `onEvent` as it arrives
 * (batches taken apart).
 * Bounded: after `timeoutMs` the subscription is dropped and `done` rejects.
 */
export function follow(
  api: ApiClient,
  runId: string,
  onEvent: (event: RunEvent) => void,
  timeoutMs: number,
): Following {
  const subscribedAt = Date.now();
  const done = new Promise<void>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined = undefined;
    const subscription = api.runs.onOutput.subscribe(
      { id: runId },
      {
        onData: (message) => {
          for (const event of message.data.events) onEvent(event);
        },
        onError: (error) => {
          clearTimeout(timer);
          reject(error);
        },
        onComplete: () => {
          clearTimeout(timer);
          resolve();
        },
      },
    );
    timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`run ${runId}: the subscription did not end within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  return { done, subscribedAt };
}
