import { describe, expect, it } from 'vitest';
import type { Context } from '../trpc.ts';
import { MAX_SOCKET_BACKLOG_BYTES, whenSocketDrains } from './subscription-slot.ts';

function contextWithBacklog(backlog: { bytes: number }): Context {
  return {
    socket: { subscriptions: 1, bufferedAmount: () => backlog.bytes },
  } as unknown as Context;
}

describe('whenSocketDrains', () => {
  it('waits while the socket holds more than the backlog limit, and goes on once it drained', async () => {
    const backlog = { bytes: MAX_SOCKET_BACKLOG_BYTES + 1 };
    let done = false;
    const waiting = whenSocketDrains(contextWithBacklog(backlog), undefined).then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(done).toBe(false);
    backlog.bytes = 0;
    await waiting;
    expect(done).toBe(true);
  });

  it('does not wait over HTTP, or once the subscription is aborted', async () => {
    await whenSocketDrains({ socket: null } as unknown as Context, undefined);
    const controller = new AbortController();
    controller.abort();
    await whenSocketDrains(
      contextWithBacklog({ bytes: Number.MAX_SAFE_INTEGER }),
      controller.signal,
    );
  });
});
