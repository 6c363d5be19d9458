import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageIndex, type PackageIndex } from '../../executor/test/support/package-index.ts';
import { buildTar } from '../src/uploads/test-support/build-tar.ts';
import { makeClient, newOwnerCookie, type TestClient } from './support/clients.ts';
import { startApiWithWorkers, type ApiWithWorkers } from './support/api-with-workers.ts';
import { endOf } from './support/runs.ts';
import { fullOutput, outputLines } from './support/subscriptions.ts';

/**
 * A dependency environment on the worker path: the API (RUNBOX_ROLE=api) checks the project's
 * manifests at create, a worker process installs the environment in its own sandbox from the
 * test's package index (through its own egress proxy), caches it, and the next run there takes
 * it from the cache.
 */

let index: PackageIndex;
let deployed: ApiWithWorkers;
let owner: TestClient;

beforeAll(async () => {
  index = await startPackageIndex({
    python: [
      {
        name: 'worker-greeting',
        version: '1.0.0',
        modules: { 'worker_greeting.py': 'VALUE = "installed on the worker"\n' },
      },
    ],
  });
  // The API checks the manifests against its settings; the worker installs with its own.
  const registry = { RUNBOX_PIP_INDEX_URL: index.pipIndexUrl };
  deployed = await startApiWithWorkers({
    label: 'envs',
    workers: [{ name: 'envs' }],
    apiEnv: registry,
    workerEnv: registry,
  });
  owner = makeClient(deployed.server.url, { cookie: await newOwnerCookie(deployed.server.url) });
}, 60_000);

afterAll(async () => {
  await owner?.close();
  await deployed?.stop();
  await index?.close();
});

describe('a dependency environment, run on a worker', () => {
  it('is installed by the worker, then taken from its cache', async () => {
    const tar = await buildTar([
      { name: 'requirements.txt', data: Buffer.from('worker-greeting==1.0.0\n') },
      {
        name: 'main.py',
        data: Buffer.from('import worker_greeting\nprint(worker_greeting.VALUE)\n'),
      },
    ]);
    const form = new FormData();
    form.append('archive', new File([new Uint8Array(tar)], 'envs.tar'));
    const project = await owner.trpc.projects.upload.mutate(form);

    const rules: string[] = [];
    for (const round of [1, 2]) {
      const run = await owner.trpc.runs.create.mutate({
        kind: 'tool',
        toolId: 'python',
        projectId: project.id,
        environment: 'project',
      });
      const events = await fullOutput(owner.trpc, run.id);
      const result = endOf(events);
      expect(result.error, `round ${round}`).toBeNull();
      expect(result.state, `round ${round}`).toBe('completed');
      expect(outputLines(events)).toContain('installed on the worker');
      const note = result.warnings.find((warning) => warning.check === 'environment');
      rules.push(note?.rule ?? 'none');
      const view = await owner.trpc.runs.get.query({ id: run.id });
      expect(view.environment).toBe('project');
    }
    expect(rules).toEqual(['installed', 'cached']);
    expect(index.requests.filter((path) => path.startsWith('/files/'))).toHaveLength(1);
  }, 180_000);

  it('is refused at create by the API when the project lists nothing', async () => {
    const tar = await buildTar([{ name: 'main.py', data: Buffer.from('print(1)\n') }]);
    const form = new FormData();
    form.append('archive', new File([new Uint8Array(tar)], 'bare.tar'));
    const project = await owner.trpc.projects.upload.mutate(form);
    await expect(
      owner.trpc.runs.create.mutate({
        kind: 'tool',
        toolId: 'python',
        projectId: project.id,
        environment: 'project',
      }),
    ).rejects.toThrow(/has none at its root/);
  });
});
