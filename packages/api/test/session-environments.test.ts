import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPackageIndex, type PackageIndex } from '../../executor/test/support/package-index.ts';
import { ownerClient, rejectionOf, runboxDetailsOf, type TestClient } from './support/clients.ts';
import { storedEnd } from './support/runs.ts';
import { startTestServer, type TestServer } from './support/server.ts';
import { fullOutput, outputLines } from './support/subscriptions.ts';

/**
 * A session with a named environment: its kernel starts with the environment's packages, which
 * every cell imports; a name the server does not declare, or `project`, is refused at create.
 */

let index: PackageIndex;
let server: TestServer;
let owner: TestClient;

beforeAll(async () => {
  index = await startPackageIndex({
    python: [
      {
        name: 'notebook-helpers',
        version: '1.0.0',
        modules: { 'notebook_helpers.py': 'def double(x):\n    return 2 * x\n' },
      },
    ],
  });
  server = await startTestServer('session-envs', {
    RUNBOX_PIP_INDEX_URL: index.pipIndexUrl,
    RUNBOX_ENVIRONMENTS: JSON.stringify({ helpers: { python: ['notebook-helpers==1.0.0'] } }),
  });
  owner = await ownerClient(server.url);
}, 60_000);

afterAll(async () => {
  await owner?.close();
  await server?.stop();
  await index?.close();
});

describe('a session with a named environment', () => {
  it('imports its packages in every cell', async () => {
    const session = await owner.trpc.sessions.create.mutate({
      language: 'python',
      environment: 'helpers',
    });
    expect(session.environment).toBe('helpers');
    for (const [code, want] of [
      ['import notebook_helpers\nx = notebook_helpers.double(21)\nprint(x)', '42'],
      ['print(notebook_helpers.double(x))', '84'],
    ] as const) {
      const cell = await owner.trpc.sessions.run.mutate({ sessionId: session.id, code });
      const ended = await storedEnd(owner.trpc, cell.id);
      expect(ended.state, code).toBe('completed');
      expect(outputLines(await fullOutput(owner.trpc, cell.id))).toEqual([want]);
    }
    // The index was asked once: the kernel's environment came from one install.
    expect(index.requests.filter((path) => path.startsWith('/files/'))).toHaveLength(1);
    await owner.trpc.sessions.close.mutate({ id: session.id });
  });

  it('refuses at create a name the server does not declare, and `project`', async () => {
    for (const environment of ['nope', 'project']) {
      const refused = await rejectionOf(
        owner.trpc.sessions.create.mutate({ language: 'python', environment }),
      );
      expect(runboxDetailsOf(refused)?.code, environment).toBe('ENVIRONMENT_REFUSED');
    }
  });
});
