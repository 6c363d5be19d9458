import type { Services } from './services.ts';

export interface Readiness {
  ready: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

const HEARTBEAT_MAX_AGE_MS = 15_000;

/** /readyz: store open, sandbox self-test passed, queue accepting, executor heartbeat recent. */
export function readiness(services: Services): Readiness {
  const checks: Readiness['checks'] = [];
  try {
    services.store.countRuns();
    checks.push({ name: 'store', ok: true, detail: services.store.file });
  } catch (error) {
    checks.push({
      name: 'store',
      ok: false,
      detail: error instanceof Error ? error.message : String(error),
    });
  }
  const failed = services.selfTest.checks.filter((check) => !check.ok);
  const layers =
    failed.length === 0
      ? `all ${services.selfTest.checks.length} layers hold`
      : `failed: ${failed.map((check) => `${check.layer} (${check.detail})`).join('; ')}`;
  checks.push({
    name: 'sandbox',
    // With workers elsewhere, runs do not run here: each worker proves its own sandbox.
    ok:
      services.cluster !== null ||
      services.selfTest.ok ||
      services.config.executor.allowUnsafeSandbox,
    detail: services.cluster ? `runs go to workers; this host: ${layers}` : layers,
  });
  checks.push({
    name: 'queue',
    ok: services.accepting(),
    detail: services.accepting() ? 'accepting runs' : 'shutting down',
  });
  const age = Date.now() - services.heartbeat();
  checks.push({
    name: 'executor',
    ok: age < HEARTBEAT_MAX_AGE_MS,
    detail: `heartbeat ${age} ms ago`,
  });
  return { ready: checks.every((check) => check.ok), checks };
}
