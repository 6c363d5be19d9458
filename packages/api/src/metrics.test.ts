import type { WorkerInfo } from '@runbox/cluster';
import type { Executor } from '@runbox/executor';
import { describe, expect, it } from 'vitest';
import { createMetrics } from './metrics.ts';

/** The worker gauges alone: the queue gauges would need an engine, and these tests read none. */
const WORKER_GAUGES = [
  'runbox_worker_running',
  'runbox_worker_concurrency',
  'runbox_worker_heartbeat_age_seconds',
  'runbox_worker_draining',
] as const;

function noEngine(): Executor {
  throw new Error('the worker gauges read no engine');
}

/** The workers' leases as plain data, counting how often they were read. */
function leases(initial: WorkerInfo[]) {
  let workers = initial;
  let reads = 0;
  return {
    cluster: {
      workers: () => {
        reads++;
        return Promise.resolve(workers);
      },
    },
    set: (next: WorkerInfo[]) => {
      workers = next;
    },
    reads: () => reads,
  };
}

function worker(name: string, fields: Partial<WorkerInfo> = {}): WorkerInfo {
  return {
    name,
    address: `${name}.local:1`,
    concurrency: 2,
    running: 0,
    selfTest: 'ok',
    draining: false,
    heartbeatAt: Date.now(),
    instance: '00000000-0000-4000-8000-000000000000',
    sessions: [],
    ...fields,
  };
}

async function scrapeWorkerGauges(metrics: ReturnType<typeof createMetrics>): Promise<string> {
  const texts = await Promise.all(
    WORKER_GAUGES.map((name) => metrics.registry.getSingleMetricAsString(name)),
  );
  return texts.join('\n');
}

/** `name{worker="w"}` → value, for every sample of the text. */
function samples(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(runbox_worker_\w+)\{worker="([^"]+)"\} (\S+)$/.exec(line);
    if (match) found.set(`${match[1]}{${match[2]}}`, Number(match[3]));
  }
  return found;
}

describe('the per-worker gauges', () => {
  it('give each live worker its running, concurrency, heartbeat age and draining', async () => {
    const source = leases([
      worker('alpha', { running: 1, concurrency: 3, heartbeatAt: Date.now() - 4_000 }),
      worker('beta', { draining: true }),
    ]);
    const metrics = createMetrics({
      executor: noEngine,
      refusals: () => 0,
      cluster: () => source.cluster,
    });
    const found = samples(await scrapeWorkerGauges(metrics));
    expect(found.get('runbox_worker_running{alpha}')).toBe(1);
    expect(found.get('runbox_worker_concurrency{alpha}')).toBe(3);
    expect(found.get('runbox_worker_draining{alpha}')).toBe(0);
    expect(found.get('runbox_worker_running{beta}')).toBe(0);
    expect(found.get('runbox_worker_concurrency{beta}')).toBe(2);
    expect(found.get('runbox_worker_draining{beta}')).toBe(1);
    expect(found.get('runbox_worker_heartbeat_age_seconds{alpha}')).toBeGreaterThanOrEqual(4);
    expect(found.get('runbox_worker_heartbeat_age_seconds{beta}')).toBeLessThan(4);
    expect(found.size).toBe(8);
  });

  it('read the leases once for all four gauges of a scrape', async () => {
    const source = leases([worker('alpha')]);
    const metrics = createMetrics({
      executor: noEngine,
      refusals: () => 0,
      cluster: () => source.cluster,
    });
    await scrapeWorkerGauges(metrics);
    expect(source.reads()).toBe(1);
    await scrapeWorkerGauges(metrics);
    expect(source.reads()).toBe(2);
  });

  it('drop a worker whose lease is gone', async () => {
    const source = leases([worker('alpha'), worker('beta')]);
    const metrics = createMetrics({
      executor: noEngine,
      refusals: () => 0,
      cluster: () => source.cluster,
    });
    expect(samples(await scrapeWorkerGauges(metrics)).size).toBe(8);
    source.set([worker('beta')]);
    const found = samples(await scrapeWorkerGauges(metrics));
    expect([...found.keys()].filter((key) => key.includes('{alpha}'))).toEqual([]);
    expect(found.size).toBe(4);
  });

  it('are absent in embedded mode', async () => {
    for (const metrics of [
      createMetrics({ executor: noEngine, refusals: () => 0 }),
      createMetrics({ executor: noEngine, refusals: () => 0, cluster: () => null }),
    ]) {
      expect(samples(await scrapeWorkerGauges(metrics)).size).toBe(0);
    }
  });

  it('leave the workers out when Redis fails, and the scrape still answers', async () => {
    const metrics = createMetrics({
      executor: noEngine,
      refusals: () => 0,
      cluster: () => ({ workers: () => Promise.reject(new Error('ECONNREFUSED')) }),
    });
    expect(samples(await scrapeWorkerGauges(metrics)).size).toBe(0);
  });

  it('leave the workers out when Redis does not answer, and the scrape still answers', async () => {
    const metrics = createMetrics({
      executor: noEngine,
      refusals: () => 0,
      cluster: () => ({ workers: () => new Promise<WorkerInfo[]>(() => {}) }),
    });
    expect(samples(await scrapeWorkerGauges(metrics)).size).toBe(0);
  });
});

describe('syntax checker gauges', () => {
  it('shows each language of the pool, as it is at each scrape', async () => {
    let python = { started: 1, live: 1, answered: 7, memoryBytes: 6_000_000 };
    const metrics = createMetrics({
      executor: noEngine,
      refusals: () => 0,
      syntaxCheckers: () => ({
        python,
        bash: { started: 0, live: 0, answered: 0, memoryBytes: 0 },
      }),
    });
    const read = async (name: string): Promise<string[]> =>
      (await metrics.registry.getSingleMetricAsString(name))
        .split('\n')
        .filter((line) => !line.startsWith('#'));
    expect(await read('runbox_syntax_checks_answered')).toEqual([
      'runbox_syntax_checks_answered{language="python"} 7',
      'runbox_syntax_checks_answered{language="bash"} 0',
    ]);
    python = { started: 2, live: 0, answered: 9, memoryBytes: 0 };
    expect(await read('runbox_syntax_checkers_live')).toEqual([
      'runbox_syntax_checkers_live{language="python"} 0',
      'runbox_syntax_checkers_live{language="bash"} 0',
    ]);
    expect(await read('runbox_syntax_checkers_started')).toContain(
      'runbox_syntax_checkers_started{language="python"} 2',
    );
  });
});
