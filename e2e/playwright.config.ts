import { defineConfig } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const PORT = Number(process.env.E2E_PORT ?? 3210);
export const ADMIN_TOKEN = 'e2e-admin-token-0123456789abcdef';
// Signs the server's callbacks; the tests' receivers check the signatures with it. This file is
// loaded again in each worker process, which inherits the runner's environment: one secret per
// run of the suite, the same in the runner (which starts the server) and in the tests.
export const CALLBACK_SECRET =
  process.env.E2E_CALLBACK_SECRET ?? `whsec_${randomBytes(32).toString('base64')}`;
process.env.E2E_CALLBACK_SECRET = CALLBACK_SECRET;
// The server's directories: one pair per port, emptied when a run of the suite begins (this file
// is loaded again in every worker process: only the first load, the runner's, does it), so runs
// of the suite do not pile up directories in /tmp.
const stateRoot = join(tmpdir(), `runbox-e2e-${PORT}`);
if (process.env.E2E_STATE_READY !== stateRoot) {
  try {
    rmSync(stateRoot, { recursive: true, force: true });
  } catch {
    // A mount a server that died left there (EBUSY): the next server's start clears it.
  }
  mkdirSync(join(stateRoot, 'sandbox'), { recursive: true, mode: 0o711 });
  mkdirSync(join(stateRoot, 'data'), { recursive: true, mode: 0o700 });
  process.env.E2E_STATE_READY = stateRoot;
}
const dataDir = process.env.E2E_DATA_DIR ?? join(stateRoot, 'data');
// Its own sandbox directory: a server clears stale workspaces of its directory at start.
const sandboxDir = join(stateRoot, 'sandbox');

/**
 * Runs against the real server, started the way `./runbox start` starts it: the web app built
 * when stale (scripts/build-web.sh), then packages/api/src/main.ts serving pages, API and socket
 * on one port. Chromium is Debian's (/usr/bin/chromium): Playwright's download cannot work here.
 */
export default defineConfig({
  testDir: './tests',
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  // ./runbox test sets E2E_JSON to sum these results with vitest's into one closing line.
  reporter: process.env.E2E_JSON
    ? [['list'], ['json', { outputFile: process.env.E2E_JSON }]]
    : [['list']],
  use: {
    baseURL: `http://localhost:${PORT}`,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
  webServer: {
    command: 'sh scripts/build-web.sh && node packages/api/src/main.ts',
    cwd: ROOT,
    url: `http://localhost:${PORT}/readyz`,
    timeout: 180_000,
    reuseExistingServer: false,
    // SIGTERM, as an operator stops it: the server removes its workspaces, checkers and cgroups.
    // Playwright's default, SIGKILL, left them all on the host after every run of the suite.
    gracefulShutdown: { signal: 'SIGTERM', timeout: 15_000 },
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      PORT: String(PORT),
      RUNBOX_DATA_DIR: dataDir,
      RUNBOX_SANDBOX_DIR: sandboxDir,
      RUNBOX_ADMIN_TOKEN: ADMIN_TOKEN,
      // The long-log test prints a million lines (the default cap is 100,000).
      RUNBOX_MAX_OUTPUT_LINES: '1000000',
      // Callbacks to the tests' receivers on this host (127.0.0.1 is refused unless allowed),
      // retried quickly so a failed first attempt is followed by a second within the test.
      RUNBOX_CALLBACK_SECRET: CALLBACK_SECRET,
      RUNBOX_CALLBACK_ALLOW_NETWORKS: '127.0.0.1',
      RUNBOX_CALLBACK_RETRY_SCHEDULE_MS: '300,300',
      // One warm Python sandbox: the pool is on (the admin page shows it) without the default's
      // four sandboxes idling beside the runs of the suite on a small machine.
      RUNBOX_WARM_SANDBOXES: 'python=1',
      // environments.spec.ts: one named environment; no registry allowed, so the form shows it
      // unavailable, with the reason.
      RUNBOX_ENVIRONMENTS: JSON.stringify({
        science: { description: 'numpy for number crunching', python: ['numpy'] },
      }),
      NEXT_TELEMETRY_DISABLED: '1',
    },
  },
});
