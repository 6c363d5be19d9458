'use client';
import { useQuery } from '@tanstack/react-query';
import { formatBytes, formatDuration } from '@/lib/format';
import { LANGUAGE_NAMES } from '@/lib/snippets';
import { errorMessage, useAdminTRPC } from '@/lib/trpc';

/** A pool changes when a run claims a sandbox and when its refill is ready: seconds apart. */
const POLL_MS = 5_000;

/**
 * This process's warm sandboxes per language (RUNBOX_WARM_SANDBOXES): how many it keeps, how
 * many are ready or starting, how often a run found one (hits) or started cold (misses), how
 * long a refill takes, and the memory the idle ones hold. Workers keep their own pools.
 */
export function WarmSandboxesSection({ enabled }: { enabled: boolean }) {
  const trpc = useAdminTRPC();
  const pools = useQuery({
    ...trpc.admin.warmSandboxes.queryOptions(),
    enabled,
    refetchInterval: POLL_MS,
  });
  const off = pools.data?.length === 0;
  return (
    <section className="card" aria-labelledby="warm-title">
      <div className="card-title">
        <h2 id="warm-title">Warm sandboxes</h2>
        {off && <span className="badge tone-neutral">off</span>}
      </div>
      {pools.isPending ? (
        <p className="muted">Loading…</p>
      ) : pools.isError ? (
        <p className="alert error">{errorMessage(pools.error)}</p>
      ) : pools.data.length === 0 ? (
        <p className="muted">
          Off: this process starts every run&rsquo;s sandbox when the run starts
          (RUNBOX_WARM_SANDBOXES is empty, or runs go to workers, which keep their own).
        </p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Language</th>
              <th scope="col">Wanted</th>
              <th scope="col">Ready</th>
              <th scope="col">Starting</th>
              <th scope="col">Hits</th>
              <th scope="col">Misses</th>
              <th scope="col">Refill p50</th>
              <th scope="col">Idle memory</th>
            </tr>
          </thead>
          <tbody>
            {pools.data.map((pool) => (
              <tr key={pool.language} data-language={pool.language}>
                <td>{LANGUAGE_NAMES[pool.language]}</td>
                <td className="num" data-testid="warm-wanted">
                  {pool.size}
                </td>
                <td className="num">{pool.ready}</td>
                <td className="num">{pool.starting}</td>
                <td className="num">{pool.hits}</td>
                <td className="num">{pool.misses}</td>
                <td className="num">{formatDuration(pool.refillMsP50)}</td>
                <td className="num">{formatBytes(pool.idleMemoryBytes)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
