import type { Redis } from 'ioredis';
import { clusterKeys } from '../src/cluster-keys.ts';
import { decodeMessage } from '../src/run-messages.ts';

const PAGE = 1_000;

/** The id of the message stream's last entry now ('0-0' when it is empty). */
export async function lastStreamId(redis: Redis): Promise<string> {
  const last = await redis.xrevrange(clusterKeys().messages, '+', '-', 'COUNT', 1);
  return last[0]?.[0] ?? '0-0';
}

/**
 * Which worker started how many runs since the entry `afterId`, as the workers told the API in
 * the message stream (its `started` messages): the proof of which workers a round used.
 */
export async function runsByWorker(redis: Redis, afterId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let from = afterId;
  for (;;) {
    const entries = await redis.xrange(clusterKeys().messages, `(${from}`, '+', 'COUNT', PAGE);
    for (const [id, fields] of entries) {
      from = id;
      const index = fields.indexOf('m');
      const message = index >= 0 ? decodeMessage(fields[index + 1] ?? '') : null;
      if (message?.kind === 'started')
        counts.set(message.worker, (counts.get(message.worker) ?? 0) + 1);
    }
    if (entries.length < PAGE) return counts;
  }
}
