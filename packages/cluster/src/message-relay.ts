import type { Redis } from 'ioredis';
import { decodeMessage, type RunMessage } from './run-messages.ts';

export interface MessageRelay {
  /** The id of the last entry handed on ('0' before any). */
  lastId(): string;
  stop(): Promise<void>;
}

interface StreamReaderOptions<T> {
  stream: string;
  afterId: string;
  onMessage(message: T, id: string): void;
  onSkipped(id: string): void;
  onError(error: unknown): void;
  /** After every read's entries were handed on, with the last one's id; the next read waits for it. */
  onBatch?(lastId: string): Promise<void>;
  /** Entries per read. @default 1000 */
  count?: number;
}

/**
 * Reads the message stream from `afterId` on and hands every message on in order, on a
 * connection of its own (a blocking read holds its connection). Entries that are no runbox
 * message are skipped and reported.
 */
export function startMessageRelay(
  redis: Redis,
  options: StreamReaderOptions<RunMessage>,
): MessageRelay {
  return startStreamReader(redis, { ...options, decode: decodeMessage });
}

/**
 * Reads a stream of runbox entries (field `m`, JSON) from `afterId` on, each decoded by `decode`
 * (null: not one of its entries, skipped and reported), in order.
 */
export function startStreamReader<T>(
  redis: Redis,
  options: StreamReaderOptions<T> & {
    decode(text: string): T | null;
  },
): MessageRelay {
  let lastId = options.afterId;
  let stopped = false;
  const count = String(options.count ?? 1000);

  async function loop(): Promise<void> {
    while (!stopped) {
      let reply: [string, [string, string[]][]][] | null;
      try {
        reply = (await redis.xread(
          'COUNT',
          count,
          'BLOCK',
          1000,
          'STREAMS',
          options.stream,
          lastId,
        )) as [string, [string, string[]][]][] | null;
      } catch (error) {
        if (stopped) return;
        options.onError(error);
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      for (const [, entries] of reply ?? []) {
        for (const [id, fields] of entries) {
          lastId = id;
          const index = fields.indexOf('m');
          const message = index >= 0 ? options.decode(fields[index + 1] ?? '') : null;
          if (message) options.onMessage(message, id);
          else options.onSkipped(id);
        }
      }
      if (reply && options.onBatch) {
        try {
          await options.onBatch(lastId);
        } catch (error) {
          options.onError(error);
        }
      }
    }
  }
  const running = loop();

  return {
    lastId: () => lastId,
    async stop() {
      stopped = true;
      redis.disconnect();
      await running;
    },
  };
}

/** Orders two stream ids (`<ms>-<seq>`): negative when a comes first. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs === bMs ? aSeq - bSeq : aMs - bMs;
}
