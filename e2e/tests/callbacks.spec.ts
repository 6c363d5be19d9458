import { expect, test, type Page } from '@playwright/test';
import { expectNoViolations } from './support/axe';
import { CallbackReceiver } from './support/callback-receiver';
import { ADMIN_TOKEN, adminApi, runState, typeSnippet } from './support/runbox';

/**
 * Signed callbacks in the browser (docs/callbacks.md): a run given a callback URL reports its end
 * to a real receiver on this host, which the server retries after a failure; the run page shows
 * the delivery and sends it again on request; a URL the server refuses is explained next to its
 * field; the admin page lists every delivery and redelivers one, and shows the warm sandboxes.
 * The e2e server signs with the suite's secret, may call 127.0.0.1, and retries after 300 ms.
 */

async function openCallbackField(page: Page): Promise<void> {
  await page.locator('summary', { hasText: 'Callback' }).click();
  await expect(page.getByLabel('Callback URL')).toBeVisible();
}

test('a run reports its end to its callback URL, retried after a failure and sent again on request', async ({
  page,
}, testInfo) => {
  // The first attempt gets a 500, every later one a 200.
  const receiver = await CallbackReceiver.start([500, 200]);
  try {
    await page.goto('/');
    await typeSnippet(page, 'echo called-back');
    await openCallbackField(page);
    await page.getByLabel('Callback URL').fill(receiver.url);
    await page.getByRole('button', { name: /^Run/ }).click();
    await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
    const runId = page.url().split('/').pop()!;
    await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });

    const panel = page.getByRole('region', { name: 'Callback' });
    await expect(panel.getByTestId('delivery-state')).toHaveAttribute('data-state', 'delivered', {
      timeout: 20_000,
    });
    await expect(panel.getByTestId('delivery-attempts')).toHaveText('2');
    await expect(panel).toContainText(receiver.url);
    await expect(panel.getByTestId('delivery-last')).toHaveText('HTTP 200');
    const attempts = panel.getByRole('table', { name: 'Attempts' }).locator('tbody tr');
    await expect(attempts).toHaveCount(2);
    await expect(attempts.nth(0)).toContainText('HTTP 500');
    await expect(attempts.nth(1)).toContainText('HTTP 200');

    // What reached the receiver: the run's end, signed, twice under one webhook-id.
    expect(receiver.received.map((got) => got.answered)).toEqual([500, 200]);
    const webhookId = receiver.received[0]!.webhookId;
    expect(webhookId).toMatch(/^msg_/);
    expect(receiver.received.map((got) => got.webhookId)).toEqual([webhookId, webhookId]);
    expect(receiver.received.every((got) => got.signed)).toBe(true);
    expect(receiver.received[0]!.body).toMatchObject({
      type: 'run.ended',
      data: { id: runId, state: 'completed' },
    });
    await expect(panel).toContainText(webhookId);

    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await expectNoViolations(page, `run page with a callback (${colorScheme})`);
    }

    // Sent again: a third attempt arrives, with the same id, and the page counts it.
    await panel.getByRole('button', { name: 'Send again' }).click();
    await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(3);
    expect(receiver.received[2]).toMatchObject({ webhookId, signed: true, answered: 200 });
    await expect(panel.getByTestId('delivery-attempts')).toHaveText('3');
    await expect(panel.getByTestId('delivery-state')).toHaveAttribute('data-state', 'delivered');
    await expect(attempts).toHaveCount(3);
    await expect(attempts.nth(2)).toContainText('HTTP 200');
    await expect(panel.getByRole('button', { name: 'Send again' })).toBeEnabled();
    await page.screenshot({ path: testInfo.outputPath('run-callback.png'), fullPage: true });
  } finally {
    await receiver.close();
  }
});

test('a run without a callback shows no callback panel', async ({ page }) => {
  await page.goto('/');
  await typeSnippet(page, 'echo no-callback');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByText('no-callback', { exact: true })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Details' })).toBeVisible();
  await expect(page.getByRole('region', { name: 'Callback' })).toHaveCount(0);
});

test('a callback URL the server refuses is explained next to the field', async ({
  page,
}, testInfo) => {
  await page.goto('/');
  await typeSnippet(page, 'echo never-runs');
  await openCallbackField(page);
  const field = page.getByLabel('Callback URL');
  const message = page.locator('#callback-url-error');

  // An address the SSRF rule forbids (the e2e server allows 127.0.0.1 only): CALLBACK_REFUSED.
  await field.fill('http://10.1.2.3/runbox-hook');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(message).toContainText('its host is a private address');
  await expect(message).toContainText('RUNBOX_CALLBACK_ALLOW_NETWORKS');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
  await expect(field).toHaveAccessibleDescription(/its host is a private address/);
  await expect(page).not.toHaveURL(/\/runs\//);
  await page.screenshot({ path: testInfo.outputPath('callback-refused.png'), fullPage: true });
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await expectNoViolations(page, `new run, callback refused (${colorScheme})`);
  }

  // Editing the URL takes the old message away; a URL of the wrong shape is the input's error.
  await field.fill('ftp://example.org/runbox-hook');
  await expect(message).toHaveCount(0);
  await expect(field).toHaveAttribute('aria-invalid', 'false');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(message).toHaveText('callbackUrl must be an https:// or http:// URL, not ftp:');
  await expect(page).not.toHaveURL(/\/runs\//);
});

test('the admin page lists callback deliveries, redelivers one, and shows the warm sandboxes', async ({
  page,
  request,
}, testInfo) => {
  const receiver = await CallbackReceiver.start([200]);
  try {
    const run = await adminApi.createRun(request, {
      kind: 'snippet',
      language: 'bash',
      code: 'echo admin-callback',
      callbackUrl: receiver.url,
    });
    await expect.poll(() => receiver.received.length, { timeout: 30_000 }).toBe(1);
    const webhookId = receiver.received[0]!.webhookId;
    expect(receiver.received[0]!.body.data.id).toBe(run.id);

    await page.goto('/admin');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();

    const callbacks = page.getByRole('region', { name: 'Callbacks' });
    const row = callbacks.getByRole('row').filter({ hasText: webhookId });
    await expect(row.getByRole('link', { name: run.id.slice(0, 12), exact: true })).toHaveAttribute(
      'href',
      `/runs/${run.id}`,
    );
    await expect(row).toContainText(receiver.url);
    await expect(row.getByTestId('delivery-state')).toHaveAttribute('data-state', 'delivered');
    await expect(row.getByTestId('delivery-attempts')).toHaveText('1');
    await expect(row.getByTestId('delivery-last')).toHaveText('HTTP 200');

    // The state filter: a delivered one is not among the failed, and is among the delivered.
    await callbacks.getByRole('button', { name: 'Failed', exact: true }).click();
    await expect(row).toHaveCount(0);
    await callbacks.getByRole('button', { name: 'Delivered', exact: true }).click();
    await expect(row).toHaveCount(1);
    await callbacks.getByRole('button', { name: 'All', exact: true }).click();
    await expect(row).toHaveCount(1);

    await row.getByRole('button', { name: `Redeliver ${webhookId}` }).click();
    await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(2);
    expect(receiver.received[1]).toMatchObject({ webhookId, signed: true });
    await expect(row.getByTestId('delivery-attempts')).toHaveText('2');
    await expect(row.getByTestId('delivery-state')).toHaveAttribute('data-state', 'delivered');

    // The server keeps one warm Python sandbox (RUNBOX_WARM_SANDBOXES=python=1).
    const warm = page.getByRole('region', { name: 'Warm sandboxes' });
    await expect(warm.getByRole('columnheader')).toHaveText([
      'Language',
      'Wanted',
      'Ready',
      'Starting',
      'Hits',
      'Misses',
      'Refill p50',
      'Idle memory',
    ]);
    await expect(warm.locator('tbody tr')).toHaveCount(1);
    const python = warm.getByRole('row').filter({ hasText: 'Python' });
    await expect(python.getByTestId('warm-wanted')).toHaveText('1');
    await page.screenshot({ path: testInfo.outputPath('admin-callbacks.png'), fullPage: true });

    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      await expectNoViolations(page, `admin with callbacks and warm sandboxes (${colorScheme})`);
    }
  } finally {
    await receiver.close();
  }
});
