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

/** Past this many unsent bytes on its socket, a subscription stops reading until they drain. */
export const MAX_SOCKET_BACKLOG_BYTES = 4 * 1024 * 1024;

/**
 * Backpressure for a slow client: tRPC's WebSocket adapter sends every event without looking at
 * what is still queued, so without this a client that stops reading grows the server's memory
 * without bound. The run's events wait in its log (and the store) instead.
 */
export async function whenSocketDrains(
  ctx: Context,
  signal: AbortSignal | undefined,
): Promise<void> {
  const socket = ctx.socket;
  if (!socket) return;
  while (socket.bufferedAmount() > MAX_SOCKET_BACKLOG_BYTES && !signal?.aborted) {
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
