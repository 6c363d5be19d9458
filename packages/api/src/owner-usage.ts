import type { OwnerUsage } from './rate-limiter.ts';
import type { Services } from './services.ts';

/**
 * What the rate limits look at for each of several owners: runs queued or running (one queue
 * snapshot for all of them), runs created since `sinceMs` (the store's count).
 */
export function usageOfOwners(
  services: Pick<Services, 'executor' | 'store'>,
  owners: readonly string[],
  sinceMs: number,
): Map<string, OwnerUsage> {
  const wanted = new Set(owners);
  const active = new Map<string, number>();
  const snapshot = services.executor.queue();
  for (const entry of [...snapshot.waiting, ...snapshot.running]) {
    const owner = entry.meta.owner;
    if (typeof owner === 'string' && wanted.has(owner))
      active.set(owner, (active.get(owner) ?? 0) + 1);
  }
  const usage = new Map<string, OwnerUsage>();
  for (const owner of wanted) {
    usage.set(owner, {
      activeRuns: active.get(owner) ?? 0,
      createdSince: services.store.runsCreatedSince(owner, sinceMs),
    });
  }
  return usage;
}
