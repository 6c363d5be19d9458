import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminClient } from './support/clients.ts';
import { eventually, storedEnd } from './support/runs.ts';
import { ADMIN_TOKEN, startTestServer, type TestServer } from './support/server.ts';

describe('warm sandboxes in a server', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer('warm', { RUNBOX_WARM_SANDBOXES: 'python=1,javascript=1' });
  });
  afterAll(async () => server.stop());

  it('runs a snippet in a warm sandbox and shows the pool on the admin API and in /metrics', async () => {
    const admin = adminClient(server.url);
    try {
      const ready = async () => {
        const pools = await admin.trpc.admin.warmSandboxes.query();
        return pools.length === 2 && pools.every((pool) => pool.ready === 1) ? pools : undefined;
      };
      const before = await eventually(ready, 'the warm sandboxes to be ready', 20_000);
      expect(before.map((pool) => pool.language).sort()).toEqual(['javascript', 'python']);

      const run = await admin.trpc.runs.create.mutate({
        kind: 'snippet',
        language: 'python',
        code: 'print(input()[::-1])\n6 * 7',
        stdin: 'olleh\n',
      });
      const ended = await storedEnd(admin.trpc, run.id);
      expect(ended.state).toBe('completed');
      expect(ended.value).toBe(42);

      const after = await eventually(ready, 'the python pool refilled', 20_000);
      expect(after.find((pool) => pool.language === 'python')).toMatchObject({
        hits: 1,
        misses: 0,
        made: 2,
      });
      const metrics = await (
        await fetch(`${server.url}/metrics`, { headers: { 'x-runbox-admin-token': ADMIN_TOKEN } })
      ).text();
      expect(metrics).toContain('runbox_warm_sandbox_hits{language="python"} 1');
      expect(metrics).toContain('runbox_warm_sandboxes_ready{language="javascript"} 1');
    } finally {
      await admin.close();
    }
  });
});
