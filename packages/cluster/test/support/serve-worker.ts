import { pino } from 'pino';
import { startWorker } from '../../src/worker-boot.ts';
import { loadWorkerConfig } from '../../src/worker-config.ts';

/**
 * TEST SCAFFOLDING: `src/worker-main.ts` with the one test-only setting it has no variable for:
 * RUNBOX_TEST_CGROUP_GROUP names the host's v1 cgroup group, so that this worker's start (which
 * kills every run of its group) cannot touch another test's runs. Says `WORKING` once it takes jobs.
 */
const config = loadWorkerConfig(process.env);
const log = pino({ level: 'warn', base: { worker: config.name } });
const group = process.env.RUNBOX_TEST_CGROUP_GROUP;
const started = await startWorker(config, { log, ...(group ? { cgroupGroupName: group } : {}) });
console.log('WORKING');
process.on('SIGTERM', () => {
  started.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('stopping failed', error);
      process.exit(1);
    },
  );
});
