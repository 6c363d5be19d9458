import { expect, test } from '@playwright/test';
import { runState, startSnippet } from './support/runbox';

/**
 * A tab holds one WebSocket, however its page loads. A slow hydration once made React build the
 * page's client several times, each with an open socket, until the server's per-client cap
 * refused every new one and the pages stopped updating.
 */
test('a page whose scripts load slowly still opens one socket and updates live', async ({
  page,
}) => {
  const sockets: string[] = [];
  page.on('websocket', (socket) => sockets.push(socket.url()));
  // Every script of the app arrives late and in a scattered order.
  let n = 0;
  await page.route('**/_next/static/**/*.js', async (route) => {
    await new Promise((resolve) => setTimeout(resolve, 300 + (n++ % 7) * 250));
    await route.continue();
  });
  for (const path of ['/admin', '/runs', '/', '/runs', '/']) {
    const before = sockets.length;
    await page.goto(path);
    await page.waitForLoadState('networkidle');
    expect(sockets.length - before, `sockets opened by one load of ${path}`).toBeLessThanOrEqual(1);
  }
  await page.unrouteAll({ behavior: 'wait' });
  const id = await startSnippet(page, 'for i in 1 2 3; do echo "tick $i"; sleep 0.3; done\n');
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByTestId('log')).toContainText('tick 3');
  expect(id).toBeTruthy();
});
