import { expect, test } from '@playwright/test';
import net from 'node:net';

/**
 * A TCP proxy in front of the server that can cut every connection, as a network drop does.
 * The page shows "reconnecting…", the socket comes back, the log resumes from the last event it
 * saw: the final line count is the server's, nothing missing and nothing twice.
 */
test('a dropped socket shows reconnecting and the log resumes without gaps or doubles', async ({
  page,
  baseURL,
}) => {
  const target = new URL(baseURL!);
  const sockets = new Set<net.Socket>();
  let accepting = true;
  const proxy = net.createServer((client) => {
    if (!accepting) return void client.destroy();
    const upstream = net.connect(Number(target.port), '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const done = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    for (const s of [client, upstream]) s.on('error', done).on('close', done);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as net.AddressInfo).port;
  try {
    await page.goto(`http://localhost:${port}/`);
    await page.locator('[data-example="streaming-output"]').click();
    await page.getByRole('button', { name: /^Run/ }).click();
    await expect(page).toHaveURL(/\/runs\//);
    const count = page.getByTestId('line-count');
    const lines = async () => Number((await count.innerText()).replace(/[^0-9]/g, ''));
    await expect.poll(lines).toBeGreaterThan(5);

    accepting = false;
    for (const socket of sockets) socket.destroy();
    await expect(page.getByText('reconnecting…')).toBeVisible();
    await page.waitForTimeout(2_000);
    accepting = true;
    await expect(page.getByText('reconnecting…')).toBeHidden({ timeout: 20_000 });

    await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'completed', {
      timeout: 60_000,
    });
    const id = page.url().split('/').pop()!;
    const serverLines = await page.evaluate(async (runId) => {
      const input = encodeURIComponent(JSON.stringify({ id: runId }));
      const body = await (await fetch(`/api/trpc/runs.get?input=${input}`)).json();
      return body.result.data.outputLines as number;
    }, id);
    await expect.poll(lines).toBe(serverLines);
    // The example prints "line n at …" n = 1..200, then "finished": row n of the log must be
    // line n, so nothing doubled and nothing was skipped across the drop.
    await page.getByTestId('log').evaluate((el) => (el.scrollTop = el.scrollHeight));
    const rows = page.locator('.log-line');
    await expect(rows.last()).toContainText('finished');
    const texts = await rows.allInnerTexts();
    for (const text of texts.slice(0, -1)) {
      const [gutter, ...rest] = text.split('\n');
      expect(rest.join(' ')).toContain(`line ${gutter!.trim().padStart(3, ' ')} at`);
    }
  } finally {
    proxy.close();
    for (const socket of sockets) socket.destroy();
  }
});
