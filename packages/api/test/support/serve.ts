import { startRunbox } from '../../src/boot.ts';
import { loadConfig } from '../../src/config.ts';

/**
 * TEST SCAFFOLDING: the server as its own process, for tests that stop it with SIGTERM or kill
 * it with SIGKILL. It is `src/main.ts` (configuration from the environment, startRunbox, stop on
 * SIGTERM) with two test-only settings main.ts has no variable for:
 *
 * - RUNBOX_TEST_CGROUP_GROUP names the host's v1 cgroup group. At start a server kills every run
 *   in its group (host.removeStale), and with the default name ('runbox') a test server would
 *   kill the runs of every other runbox on this machine, and they its runs.
 * - the port is a free one (loadConfig refuses PORT=0), or RUNBOX_TEST_PORT (a server started
 *   again where its workers know it); the line `SERVING <url>` says which.
 */
const config = loadConfig(process.env);
config.port = Number(process.env.RUNBOX_TEST_PORT ?? 0);
const group = process.env.RUNBOX_TEST_CGROUP_GROUP;
if (group) config.executor.host.cgroupGroupName = group;

const runbox = await startRunbox(config, { log: (message) => console.log(message) });
console.log(`SERVING ${runbox.url}`);

let signalled = false;
process.on('SIGTERM', () => {
  if (signalled) return;
  signalled = true;
  console.log('SIGTERM: stopping');
  runbox.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('shutdown failed', error);
      process.exit(1);
    },
  );
});
