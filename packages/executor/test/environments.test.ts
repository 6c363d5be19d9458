import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor } from '../src/engine/executor.ts';
import type { ExecutorConfig } from '../src/engine/executor-types.ts';
import { EnvironmentRefusedError } from '../src/environments/environment-errors.ts';
import { createEnvironmentStore } from '../src/environments/environment-store.ts';
import { parseMountInfo } from '../src/sandbox/mount-table.ts';
import {
  projectRun,
  runToEnd,
  startEnvironmentHarness,
  storedKeys,
  type EnvironmentHarness,
  type Ended,
} from './support/environment-harness.ts';
import { startPackageIndex, type PackageIndex } from './support/package-index.ts';

/**
 * Dependency environments for real (environments/): pip and npm run inside the sandbox, reach the
 * test's own package index only through the egress proxy, and what they install is cached and
 * bound read-only into later runs. Nothing here touches the outside network.
 */

const asRoot = process.getuid?.() === 0;
let index: PackageIndex;
let elsewhere: PackageIndex;
let harness: EnvironmentHarness;

const GREETING = 'VALUE = "from the test index"\n';

beforeAll(async () => {
  if (!asRoot) return;
  index = await startPackageIndex({
    python: [
      {
        name: 'tiny-greeting',
        version: '1.0.0',
        modules: { 'tiny_greeting/__init__.py': GREETING },
      },
      {
        name: 'greeter-app',
        version: '2.0.0',
        modules: {
          'greeter_app.py':
            'import tiny_greeting\ndef greet():\n    return "app says " + tiny_greeting.VALUE\n',
        },
        requires: ['tiny-greeting>=1.0'],
      },
    ],
    npm: [
      {
        name: 'tiny-pad',
        version: '1.2.3',
        files: { 'index.js': "module.exports = { pad: (s) => '[' + s + ']' };\n" },
        main: 'index.js',
      },
    ],
  });
  // A registry the operator did not allow: nothing may reach it.
  elsewhere = await startPackageIndex({
    python: [
      { name: 'elsewhere-pkg', version: '1.0.0', modules: { 'elsewhere_pkg.py': 'X = 1\n' } },
    ],
  });
  harness = await startEnvironmentHarness('env', {
    settings: {
      pipIndexUrl: index.pipIndexUrl,
      npmRegistry: index.npmRegistry,
      named: { greetings: { python: ['tiny-greeting==1.0.0'] } },
      installWallTimeMs: 180_000,
    },
    concurrency: 2,
  });
}, 120_000);

afterAll(async () => {
  if (!asRoot) return;
  const left = await harness.close();
  await index.close();
  await elsewhere.close();
  expect(left).toEqual([]);
});

const MAIN_PY = `
import greeter_app, tiny_greeting, os, sys, urllib.request
print(greeter_app.greet())
print("egress socket seen:", os.path.exists("/run/runbox-egress"))
print("found in", tiny_greeting.__file__)
try:
    urllib.request.urlopen(sys.argv[1], timeout=3)
    print("network: reached")
except Exception as error:
    print("network: none")
print("".join(open("/proc/self/mountinfo").readlines()))
`;

describe.runIf(asRoot)('dependency environments', () => {
  it('installs a project requirements.txt through the egress proxy, and the run imports it without network of its own', async () => {
    const dir = await harness.project('py-app', {
      'requirements.txt': 'greeter-app==2.0.0\n',
      'main.py': MAIN_PY,
    });
    const first = await harness.runToEnd(projectRun('python', dir, [`${index.url}/simple/`]));
    expect(first.result.error).toBeNull();
    expect(first.result.state).toBe('completed');
    expect(first.stdout).toContain('app says from the test index');
    expect(first.stdout).toContain('found in /opt/runbox-env/python/tiny_greeting/__init__.py');
    // The run's own network is off: the index it could name is not reachable from inside.
    expect(first.stdout).toContain('network: none');
    // The install's way out is bound into the install's sandbox alone.
    expect(first.stdout).toContain('egress socket seen: False');
    // The install's output is the run's stderr, never its stdout.
    expect(first.stderr).toContain('runbox-install: python: pip install');
    expect(first.stdout).not.toContain('runbox-install');
    expect(first.result.warnings).toContainEqual(
      expect.objectContaining({ check: 'environment', rule: 'installed' }),
    );
    expect(index.requests).toEqual(
      expect.arrayContaining(['/simple/greeter-app/', '/simple/tiny-greeting/']),
    );
    // mountinfo names nothing of the host: not the store, not the sandbox directory.
    const mounts = parseMountInfo(
      first.stdout.slice(first.stdout.indexOf('network: none') + 'network: none'.length).trim(),
    );
    expect(mounts.map((mount) => mount.mountPoint)).toContain('/opt/runbox-env/python');
    expect(first.stdout).not.toContain(harness.stateDir);

    // The second run takes the cache: no request reaches the index.
    const fetched = index.requests.length;
    const second = await harness.runToEnd(projectRun('python', dir, [`${index.url}/simple/`]));
    expect(second.result.state).toBe('completed');
    expect(second.stdout).toContain('app says from the test index');
    expect(second.stderr).not.toContain('runbox-install');
    expect(second.result.warnings).toContainEqual(
      expect.objectContaining({ check: 'environment', rule: 'cached' }),
    );
    expect(index.requests.length).toBe(fetched);
    // One environment, stored whole; nothing half-made left beside it.
    const stored = await readdir(harness.storeDir);
    expect(stored.filter((name) => /^[0-9a-f]{32}$/.test(name))).toHaveLength(1);
    expect(stored.filter((name) => name.startsWith('.build-'))).toEqual([]);
  }, 240_000);

  it('fails the run, naming the package, when the index has no such package', async () => {
    const dir = await harness.project('py-missing', {
      'requirements.txt': 'no-such-package-rb==1.0\n',
      'main.py': 'print("never")\n',
    });
    const ended = await harness.runToEnd(projectRun('python', dir));
    expect(ended.result.state).toBe('failed');
    expect(ended.result.error).toMatch(
      /installing environment "project" failed \(exit status \d+\): package "no-such-package-rb==1.0" was not found/,
    );
    expect(ended.stdout).not.toContain('never');
  }, 240_000);

  it('refuses a registry the operator did not allow, and nothing reaches it', async () => {
    const dir = await harness.project('py-elsewhere', {
      'requirements.txt': `--extra-index-url ${elsewhere.pipIndexUrl}\nelsewhere-pkg==1.0.0\n`,
      'main.py': 'print("never")\n',
    });
    const ended = await harness.runToEnd(projectRun('python', dir));
    expect(ended.result.state).toBe('failed');
    expect(ended.result.error).toContain(`127.0.0.1:${elsewhere.port}`);
    expect(ended.result.error).toContain('not an allowed package registry');
    expect(ended.stderr).toContain('runbox-install: refused');
    expect(elsewhere.requests).toEqual([]);
  }, 240_000);

  it('installs a package.json with its package-lock.json (npm ci), found by require from the workspace', async () => {
    const dir = await harness.project('node-app', {
      'package.json': JSON.stringify({
        name: 'node-app',
        version: '1.0.0',
        dependencies: { 'tiny-pad': '1.2.3' },
      }),
      'package-lock.json': index.npmLockfile({ 'tiny-pad': '1.2.3' }, 'node-app'),
      'index.js': "console.log(require('tiny-pad').pad('padded'));\n",
    });
    const ended = await harness.runToEnd(projectRun('node', dir));
    expect(ended.result.error).toBeNull();
    expect(ended.result.state).toBe('completed');
    expect(ended.stdout).toContain('[padded]');
    expect(ended.stderr).toContain('runbox-install: node: npm ci');
  }, 240_000);

  it("gives a snippet an operator's named environment", async () => {
    const ended = await harness.runToEnd({
      kind: 'snippet',
      language: 'python',
      code: 'import tiny_greeting\nprint(tiny_greeting.VALUE)\n',
      environment: 'greetings',
    });
    expect(ended.result.error).toBeNull();
    expect(ended.stdout).toContain('from the test index');
  }, 240_000);

  it('refuses at create what could never be installed, naming why', async () => {
    const bare = await harness.project('no-manifest', { 'main.py': 'print(1)\n' });
    await expect(harness.executor.submit(projectRun('python', bare))).rejects.toThrow(
      /this project has none at its root \(requirements.txt/,
    );
    await expect(
      harness.executor.submit({
        kind: 'snippet',
        language: 'python',
        code: '1',
        environment: 'nope',
      }),
    ).rejects.toThrow(/unknown environment "nope": this server has "greetings"/);
    await expect(
      harness.executor.submit({
        kind: 'snippet',
        language: 'python',
        code: '1',
        environment: 'project',
      }),
    ).rejects.toBeInstanceOf(EnvironmentRefusedError);

    // A server that allows no registry (the default) says how to allow one.
    const closedStore = createEnvironmentStore({
      host: harness.host,
      dir: join(harness.stateDir, 'closed-store'),
      settings: { ...harness.store.settings, pipIndexUrl: null, npmRegistry: null },
    });
    const config: ExecutorConfig = {
      host: harness.host,
      tools: harness.tools,
      syntaxCheck: false,
      environments: closedStore,
    };
    const closed = createExecutor(config);
    const withRequirements = await harness.project('closed', {
      'requirements.txt': 'tiny-greeting\n',
      'main.py': 'print(1)\n',
    });
    try {
      await expect(closed.submit(projectRun('python', withRequirements))).rejects.toThrow(
        /no package registry is allowed on this server.*RUNBOX_PIP_INDEX_URL/,
      );
    } finally {
      await closed.shutdown({ deadlineMs: 1_000 });
      await closedStore.close();
    }
  });

  it('keeps the store within its cap: the least recently used go, never one a run is using', async () => {
    const small = createEnvironmentStore({
      host: harness.host,
      dir: join(harness.stateDir, 'small-store'),
      // Smaller than any environment: every install removes all the others it may.
      settings: { ...harness.store.settings, maxBytes: 1 },
    });
    const capped = createExecutor({
      host: harness.host,
      concurrency: 2,
      tools: harness.tools,
      syntaxCheck: false,
      environments: small,
    });
    const first = await harness.project('capped-first', {
      'requirements.txt': 'tiny-greeting==1.0.0\n',
      'main.py':
        'import sys, time\nimport tiny_greeting\nprint(tiny_greeting.VALUE, flush=True)\ntime.sleep(float(sys.argv[1]))\n',
    });
    const second = await harness.project('capped-second', {
      'requirements.txt': 'greeter-app==2.0.0\n',
      'main.py': 'import greeter_app\nprint(greeter_app.greet())\n',
    });
    const stored = (): Promise<string[]> => storedKeys(join(harness.stateDir, 'small-store'));
    try {
      const run = (dir: string, args: string[] = []): Promise<Ended> =>
        runToEnd(capped, projectRun('python', dir, args));
      expect((await run(first, ['0'])).result.state).toBe('completed');
      const [firstKey] = await stored();
      // The first is in use (its run sleeps) while the second installs: it stays.
      const using = run(first, ['3']);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const installed = await run(second);
      expect(installed.result.state).toBe('completed');
      expect(await stored()).toHaveLength(2);
      expect((await using).stdout).toContain('from the test index');
      // Not in use any more: the next install removes it, least recently used first.
      const again = await run(second);
      expect(again.result.warnings).toContainEqual(expect.objectContaining({ rule: 'cached' }));
      const third = await harness.project('capped-third', {
        'requirements.txt': 'tiny-greeting\n',
        'main.py': 'import tiny_greeting\nprint(tiny_greeting.VALUE)\n',
      });
      expect((await run(third)).result.state).toBe('completed');
      const left = await stored();
      expect(left).toHaveLength(1);
      expect(left).not.toContain(firstKey);
      // Removed means installed again when asked for.
      const back = await run(first, ['0']);
      expect(back.result.warnings).toContainEqual(expect.objectContaining({ rule: 'installed' }));
    } finally {
      await capped.shutdown({ deadlineMs: 1_000 });
      await small.close();
    }
  }, 240_000);
});
