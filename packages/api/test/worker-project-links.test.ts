import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTar } from '../src/uploads/test-support/build-tar.ts';
import { makeClient, newOwnerCookie, type TestClient } from './support/clients.ts';
import { startApiWithWorkers, type ApiWithWorkers } from './support/api-with-workers.ts';
import { endOf } from './support/runs.ts';
import { fullOutput, outputLines } from './support/subscriptions.ts';

/**
 * A project's links on the worker path: the API (RUNBOX_ROLE=api) stores an upload with its
 * links, a worker process fetches it by digest (the bundle carries the links as links, its cache
 * gives the tree to its sandbox user) and runs the tool on it through a layer. What the run
 * writes stays in its own workspace: the next run on the same cached project sees it as stored.
 */

let deployed: ApiWithWorkers;
let owner: TestClient;

beforeAll(async () => {
  deployed = await startApiWithWorkers({ label: 'links', workers: [{ name: 'links' }] });
  owner = makeClient(deployed.server.url, { cookie: await newOwnerCookie(deployed.server.url) });
}, 60_000);

afterAll(async () => {
  await owner?.close();
  await deployed?.stop();
});

describe('a project with links, run on a worker', () => {
  it('keeps its links through the bundle and the cache; runs write only their own layer', async () => {
    const script = [
      'echo "claude: $(cat CLAUDE.md)"',
      'echo "link: $(readlink docs/up)"',
      'echo "state: $(cat state.txt)"',
      "grep ' /workspace ' /proc/self/mountinfo | sed 's/.* - \\([^ ]*\\) .*/fs: \\1/'",
      'echo changed > state.txt',
      'rm AGENTS.md',
    ].join('\n');
    const tar = await buildTar([
      { name: 'run.sh', data: Buffer.from(`${script}\n`) },
      { name: 'AGENTS.md', data: Buffer.from('be kind') },
      { name: 'state.txt', data: Buffer.from('stored') },
      { name: 'CLAUDE.md', type: 'symlink', linkname: 'AGENTS.md' },
      { name: 'docs/', type: 'directory' },
      { name: 'docs/up', type: 'symlink', linkname: '../AGENTS.md' },
    ]);
    const form = new FormData();
    form.append('archive', new File([new Uint8Array(tar)], 'links.tar'));
    const project = await owner.trpc.projects.upload.mutate(form);
    expect(project.links).toHaveLength(2);

    for (const round of [1, 2]) {
      const run = await owner.trpc.runs.create.mutate({
        kind: 'tool',
        toolId: 'bash',
        projectId: project.id,
      });
      const events = await fullOutput(owner.trpc, run.id);
      const result = endOf(events);
      expect(result.state, `round ${round}`).toBe('completed');
      const lines = outputLines(events);
      expect(lines.slice(0, 3), `round ${round}`).toEqual([
        'claude: be kind',
        'link: ../AGENTS.md',
        'state: stored',
      ]);
      if (process.getuid?.() === 0) expect(lines[3]).toBe('fs: overlay');
      expect(result.artifacts.map((artifact) => artifact.path)).toEqual(['state.txt']);
    }
  });
});
