import { expect, test, type Browser, type Page } from '@playwright/test';
import { adminApi, runState, startSnippet } from './support/runbox';

async function ownPage(browser: Browser): Promise<Page> {
  // A context each: a different owner cookie, so the per-owner limit plays no part.
  const context = await browser.newContext();
  return context.newPage();
}

// Issue test 3: with one slot, the third of three runs waits 2nd in line, then 1st, then runs.
test('with concurrency 1 the third run shows position 2, then 1, then running', async ({
  browser,
  request,
}) => {
  const before = await adminApi.queue(request);
  expect(before.running).toEqual([]);
  expect(before.waiting).toEqual([]);
  const pages: Page[] = [];
  try {
    await adminApi.setConcurrency(request, 1);
    const snippet = 'sleep 4\necho done';

    const first = await ownPage(browser);
    pages.push(first);
    await startSnippet(first, snippet);
    await expect(runState(first)).toHaveAttribute('data-state', 'running', { timeout: 20_000 });

    // Held while the next two queue up, so the first cannot end before the third is in line.
    await adminApi.pause(request);
    const second = await ownPage(browser);
    pages.push(second);
    await startSnippet(second, snippet);
    await expect(runState(second)).toHaveAttribute('data-state', 'queued');
    await expect(second.getByTestId('queue-widget')).toContainText('1st in line');

    const third = await ownPage(browser);
    pages.push(third);
    await startSnippet(third, snippet);
    const widget = third.getByTestId('queue-widget');
    await expect(runState(third)).toHaveAttribute('data-state', 'queued');
    await expect(widget).toContainText('2nd in line');
    await expect(widget.locator('.queue-place')).toHaveText('#2');
    await adminApi.resume(request);

    await expect(widget).toContainText('1st in line', { timeout: 30_000 });
    await expect(widget.locator('.queue-place')).toHaveText('#1');
    await expect(runState(second)).toHaveAttribute('data-state', 'running');
    await expect(runState(first)).toHaveAttribute('data-state', 'completed');

    await expect(runState(third)).toHaveAttribute('data-state', 'running', { timeout: 30_000 });
    await expect(widget).toHaveCount(0);
    await expect(runState(second)).toHaveAttribute('data-state', 'completed');
    await expect(runState(third)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
    await expect(third.getByTestId('log')).toContainText('done');
  } finally {
    await adminApi.resume(request);
    await adminApi.setConcurrency(request, before.concurrency);
    for (const page of pages) await page.context().close();
  }
  expect((await adminApi.queue(request)).concurrency).toBe(before.concurrency);
});
