import { expect, test, type Page } from '@playwright/test';
import { runState, startSnippet } from './support/runbox';

/** The history page: the runs of this browser, filtered by state, each opening its run page. */

function historyRow(page: Page, id: string) {
  return page.getByRole('row').filter({ hasText: id.slice(0, 12) });
}

test('history lists completed, failed and cancelled runs, filters by state, opens a run', async ({
  page,
}) => {
  const completed = await startSnippet(page, 'echo first line\necho second line');
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });

  const failed = await startSnippet(page, 'echo about to fail\nexit 3');
  await expect(runState(page)).toHaveAttribute('data-state', 'failed', { timeout: 30_000 });

  const cancelled = await startSnippet(page, 'echo waiting\nsleep 60');
  await expect(runState(page)).toHaveAttribute('data-state', 'running', { timeout: 20_000 });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(runState(page)).toHaveAttribute('data-state', 'cancelled', { timeout: 20_000 });

  const ours = { completed, failed, cancelled };
  const expectShown = async (shown: (keyof typeof ours)[]) => {
    for (const [name, id] of Object.entries(ours)) {
      await expect(historyRow(page, id)).toHaveCount(
        shown.includes(name as keyof typeof ours) ? 1 : 0,
      );
    }
  };

  await page.goto('/runs');
  await expect(page.getByRole('heading', { name: 'Your runs' })).toBeVisible();
  const filters = page.getByRole('group', { name: 'Filter by state' });
  await expect(filters.getByRole('button', { name: 'All', exact: true })).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  await expectShown(['completed', 'failed', 'cancelled']);
  // A test's browser context is an owner of its own: other tests' runs are not in its history.
  await expect(page.locator('tbody tr')).toHaveCount(3);
  // Each row: what ran, its state in words, the lines it printed.
  for (const [id, state, lines] of [
    [completed, 'Completed', '2'],
    [failed, 'Failed with exit code 3', '1'],
    [cancelled, 'Cancelled', '1'],
  ] as const) {
    const cells = historyRow(page, id).getByRole('cell');
    await expect(cells.nth(0)).toContainText('Bash snippet');
    await expect(cells.nth(1)).toHaveText(state);
    await expect(cells.nth(4)).toHaveText(lines);
  }

  // One state at a time: only that state's runs, every row in that state.
  const badges = page.locator('tbody tr td:nth-child(2)');
  for (const [chip, name, words] of [
    ['Failed', 'failed', /^Failed/],
    ['Cancelled', 'cancelled', /^Cancelled$/],
    ['Completed', 'completed', /^Completed$/],
  ] as const) {
    const button = filters.getByRole('button', { name: chip, exact: true });
    await button.click();
    await expect(button).toHaveAttribute('aria-pressed', 'true');
    await expect(filters.getByRole('button', { name: 'All', exact: true })).toHaveAttribute(
      'aria-pressed',
      'false',
    );
    await expectShown([name]);
    for (const text of await badges.allInnerTexts()) expect(text).toMatch(words);
    await button.click();
    await expect(button).toHaveAttribute('aria-pressed', 'false');
  }

  // Two states at once, then All again.
  await filters.getByRole('button', { name: 'Failed', exact: true }).click();
  await filters.getByRole('button', { name: 'Cancelled', exact: true }).click();
  await expectShown(['failed', 'cancelled']);
  await filters.getByRole('button', { name: 'All', exact: true }).click();
  await expectShown(['completed', 'failed', 'cancelled']);

  // A filter none of this owner's runs matches says so.
  await filters.getByRole('button', { name: 'Timed out', exact: true }).click();
  await expect(page.getByText('No runs in these states')).toBeVisible();
  await expectShown([]);
  await filters.getByRole('button', { name: 'All', exact: true }).click();

  // Open goes to the run's page.
  await page.getByRole('link', { name: `Open run ${failed}` }).click();
  await expect(page).toHaveURL(new RegExp(`/runs/${failed}$`));
  await expect(runState(page)).toHaveAttribute('data-state', 'failed');
  await expect(runState(page)).toHaveText('Failed with exit code 3');
  await expect(page.getByTestId('log')).toContainText('about to fail');
});
