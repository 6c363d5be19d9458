import { expect, test } from '@playwright/test';
import { ADMIN_TOKEN, adminApi, runState, startSnippet } from './support/runbox';

// Issue test 7: the admin page, signed in with the token, shows the queue, cancels another
// owner's run and changes the concurrency; without the token it shows nothing of the queue.
test('admin signs in, sees the queue, cancels another owner’s run, sets concurrency', async ({
  page,
  browser,
  request,
}, testInfo) => {
  const before = await adminApi.queue(request);
  const otherContext = await browser.newContext();
  try {
    // Without the token: a sign-in form and nothing of the queue; the API refuses too.
    await page.goto('/admin');
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    await expect(page.getByRole('heading', { name: /^Running/ })).toHaveCount(0);
    await expect(page.getByRole('heading', { name: /^Waiting/ })).toHaveCount(0);
    await expect(page.getByText('Queue running')).toHaveCount(0);
    const refused = await request.get('/api/trpc/admin.queue');
    expect(refused.status()).toBe(401);

    // A wrong token is told so, still without the queue.
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(
      page.getByRole('heading', { name: 'That token is not the admin token' }),
    ).toBeVisible();
    await expect(page.getByRole('heading', { name: /^Running/ })).toHaveCount(0);
    await page.getByRole('button', { name: 'Try another token' }).click();

    // Another owner's long run.
    const other = await otherContext.newPage();
    const id = await startSnippet(other, 'echo other-owner\nsleep 60');
    await expect(runState(other)).toHaveAttribute('data-state', 'running', { timeout: 20_000 });

    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('Queue running')).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Running (1)' })).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Waiting (0)' })).toBeVisible();
    const row = page.getByRole('row').filter({ hasText: id.slice(0, 12) });
    await expect(row).toContainText('Bash snippet');
    await page.screenshot({ path: testInfo.outputPath('admin.png'), fullPage: true });

    await page.getByRole('button', { name: `Cancel run ${id}` }).click();
    await expect(runState(other)).toHaveAttribute('data-state', 'cancelled', { timeout: 20_000 });
    await expect(runState(other)).toHaveText('Cancelled');
    await expect(page.getByRole('heading', { name: 'Running (0)' })).toBeVisible();
    await expect(page.getByText('Nothing is running.')).toBeVisible();

    const next = before.concurrency + 1;
    await page.getByLabel('Concurrency').fill(String(next));
    await page.getByRole('button', { name: 'Set', exact: true }).click();
    await expect(page.getByText(`0 of ${next} slots busy`)).toBeVisible();
    expect((await adminApi.queue(request)).concurrency).toBe(next);
  } finally {
    await adminApi.setConcurrency(request, before.concurrency);
    await otherContext.close();
  }
});
