import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ClusterKeys } from './cluster-keys.ts';
import { parseJsonAs } from './json-entry.ts';

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
  return parseJsonAs(placementSchema, await redis.get(keys.sessionOn(sessionId)));
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
