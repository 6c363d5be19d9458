import { expect, test } from '@playwright/test';
import { runState } from './support/runbox';

// Issue test 5: runs stopped by their limits say why in words.
test('the infinite-loop example ends timed out, explained in words', async ({ page }) => {
  await page.goto('/');
  await page.locator('[data-example="infinite-loop"]').click();
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  await expect(runState(page)).toHaveAttribute('data-state', 'timed_out', { timeout: 30_000 });
  await expect(runState(page)).toHaveText('Stopped: ran longer than 3 s');
  await expect(page.getByTestId('log')).toContainText('counting for ever...');
});

test('the memory-hog example ends over its memory limit, explained in words', async ({ page }) => {
  await page.goto('/');
  await page.locator('[data-example="memory-hog"]').click();
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  await expect(runState(page)).toHaveAttribute('data-state', 'memory_limit', { timeout: 30_000 });
  await expect(runState(page)).toHaveText('Stopped: used more than 64 MiB of memory');
  await expect(page.getByTestId('log')).toContainText('holding 8 MiB');
});
