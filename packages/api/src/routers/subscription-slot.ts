import { TRPCError } from '@trpc/server';
import type { Context } from '../trpc.ts';

/**
 * Counts a subscription against its socket's cap for as long as it runs. Over HTTP there is no
 * socket and no cap.
 */
export async function* withSubscriptionSlot<T>(
  ctx: Context,
  body: () => AsyncGenerator<T>,
): AsyncGenerator<T> {
  const socket = ctx.socket;
  const max = ctx.services.config.ws.maxSubscriptions;
  if (socket && socket.subscriptions >= max) {
    throw new TRPCError({
      code: 'TOO_MANY_REQUESTS',
      message: `a socket may hold at most ${max} subscriptions`,
    });
  }
  if (socket) socket.subscriptions++;
  ctx.services.metrics.subscriptionStarted();
  try {
    yield* body();
  } finally {
    if (socket) socket.subscriptions--;
    ctx.services.metrics.subscriptionEnded();
  }
}
