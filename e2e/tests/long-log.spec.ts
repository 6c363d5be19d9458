import { expect, test } from '@playwright/test';
import { runState, typeSnippet } from './support/runbox';

const LINES = 1_000_000;

/**
 * A million lines: every one reaches the page (in batches over the socket), the log stays
 * virtualised (only the rows in view are in the document), and any line can be reached by
 * scrolling or search with its number beside it.
 */
test('a million lines arrive whole and scroll: only the rows in view are rendered', async ({
  page,
}) => {
  test.setTimeout(240_000);
  await page.goto('/');
  await typeSnippet(page, `seq 1 ${LINES}\n`);
  // seq prints 6.9 MB: above the 1 MiB default, within the server's maximum.
  await page.locator('#output').fill('16');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);

  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 120_000 });
  const count = page.getByTestId('line-count');
  await expect(count).toHaveText(`${LINES.toLocaleString('en')} lines`, { timeout: 120_000 });

  const log = page.getByTestId('log');
  const rows = page.locator('.log-line');
  // Virtualised: a screenful plus overscan, not a million nodes.
  expect(await rows.count()).toBeLessThan(200);

  // Row n holds the number n, at the bottom and half-way down.
  const expectRowsNumbered = async () => {
    const texts = await rows.allInnerTexts();
    expect(texts.length).toBeGreaterThan(5);
    for (const text of texts) {
      const [gutter, ...rest] = text.split('\n');
      expect(rest.join('').trim()).toBe(gutter!.trim());
    }
  };
  await log.evaluate((el) => (el.scrollTop = el.scrollHeight));
  await expect(rows.last()).toContainText(String(LINES));
  await expectRowsNumbered();
  await log.evaluate((el) => (el.scrollTop = el.scrollHeight / 2));
  await expect(rows.first()).toContainText(/^\s*4\d\d\d\d\d/);
  await expectRowsNumbered();
  expect(await rows.count()).toBeLessThan(200);

  // Search jumps to a line far from both ends.
  await page.getByLabel('Search the log').fill('765432');
  await expect(page.getByText('1 of 1')).toBeVisible();
  await expect(page.locator('.log-line.current-match')).toContainText('765432');
});
