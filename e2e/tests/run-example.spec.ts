import { expect, test } from '@playwright/test';

// Issue test 1: pick an example, run it, watch the line count grow while it runs, end completed.
test('an example runs live and ends completed', async ({ page }) => {
  await page.goto('/');
  await page.locator('[data-example="streaming-output"]').click();
  await expect(page.locator('[data-example="streaming-output"]')).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);

  const count = page.getByTestId('line-count');
  const lines = async () => Number((await count.innerText()).replace(/[^0-9]/g, ''));
  await expect.poll(lines, { timeout: 20_000 }).toBeGreaterThan(3);
  const early = await lines();
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'running');
  await expect.poll(lines, { timeout: 20_000 }).toBeGreaterThan(early + 5);

  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'completed', {
    timeout: 60_000,
  });
  await expect(page.getByTestId('run-state')).toHaveText('Completed');
  const final = await lines();
  expect(final).toBeGreaterThan(early);
  // Nothing doubled: the numbers in the log are each there once.
  await expect(page.locator('.log-line').first()).toBeVisible();
});
