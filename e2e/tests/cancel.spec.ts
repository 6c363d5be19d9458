import { expect, test } from '@playwright/test';
import { runState, startSnippet } from './support/runbox';

// Issue test 4: cancelling a running run; the page shows it cancelled. Also the running-log
// screenshot.
test('a running run is cancelled from its page and shows cancelled', async ({ page }, testInfo) => {
  await startSnippet(page, 'echo started-now\nsleep 60\necho never-printed');
  await expect(runState(page)).toHaveAttribute('data-state', 'running', { timeout: 20_000 });
  await expect(page.getByTestId('log')).toContainText('started-now');
  await page.screenshot({ path: testInfo.outputPath('running-log.png'), fullPage: true });

  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(runState(page)).toHaveAttribute('data-state', 'cancelled', { timeout: 20_000 });
  await expect(runState(page)).toHaveText('Cancelled');
  await expect(page.getByRole('button', { name: 'Cancel' })).toHaveCount(0);
  await expect(page.getByTestId('log')).not.toContainText('never-printed');
});
