import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ClusterKeys } from './cluster-keys.ts';

/** Where a session's kernel lives: the worker's name and its process's instance. */
export interface Placement {
  worker: string;
  instance: string;
}

const placementSchema = z.object({ worker: z.string().min(1), instance: z.uuid() }).strict();

/** The session's placement, or null (none yet, hibernated, closed, or not one runbox wrote). */
export async function readPlacement(
  redis: Redis,
  keys: ClusterKeys,
  sessionId: string,
): Promise<Placement | null> {
  const text = await redis.get(keys.sessionOn(sessionId));
  if (text === null) return null;
  try {
    const parsed = placementSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export async function writePlacement(
  redis: Redis,
  keys: ClusterKeys,
  sessionId: string,
  placement: Placement,
): Promise<void> {
  await redis.set(keys.sessionOn(sessionId), JSON.stringify(placement));
}

export async function removePlacement(
  redis: Redis,
  keys: ClusterKeys,
  sessionId: string,
): Promise<void> {
  await redis.del(keys.sessionOn(sessionId));
}
