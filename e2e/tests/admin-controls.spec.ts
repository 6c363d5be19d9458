import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { msOf } from './support/figures';
import { ADMIN_TOKEN, adminApi, runState, startSnippet, type QueueView } from './support/runbox';

/**
 * The admin page's controls: pausing and resuming the queue, the sandbox self-test, the rate-limit
 * settings and the charts. The server is shared by every test: whatever a test changes (paused,
 * concurrency, rate limits) is put back after it, pass or fail.
 */

const HEADERS = { 'x-runbox-admin-token': ADMIN_TOKEN };

interface SelfTest {
  ok: boolean;
  checks: { layer: string; mechanism: string; ok: boolean; detail: string }[];
}

interface RateLimits {
  runsPerHour: number;
  concurrentRunsPerOwner: number;
}

async function adminQuery<T>(request: APIRequestContext, procedure: string): Promise<T> {
  const response = await request.get(`/api/trpc/${procedure}`, { headers: HEADERS });
  expect(response.status(), `${procedure}: ${await response.text()}`).toBe(200);
  return ((await response.json()) as { result: { data: T } }).result.data;
}

async function setRateLimits(request: APIRequestContext, limits: RateLimits): Promise<void> {
  const response = await request.post('/api/trpc/admin.setRateLimits', {
    headers: { ...HEADERS, 'content-type': 'application/json' },
    data: JSON.stringify(limits),
  });
  expect(response.status(), await response.text()).toBe(200);
}

async function signIn(page: Page): Promise<void> {
  await page.goto('/admin');
  await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByText(/^Queue (running|paused)$/)).toBeVisible();
}

let before: QueueView;
let limitsBefore: RateLimits;

test.beforeEach(async ({ request }) => {
  before = await adminApi.queue(request);
  limitsBefore = await adminQuery<RateLimits>(request, 'admin.rateLimits');
  expect(before.paused).toBe(false);
});

test.afterEach(async ({ request }) => {
  await adminApi.resume(request);
  await adminApi.setConcurrency(request, before.concurrency);
  await setRateLimits(request, limitsBefore);
});

test('Pause holds a new run in line, shown waiting with owner, tool and wait; Resume runs it', async ({
  page,
  browser,
  request,
}) => {
  const otherContext = await browser.newContext();
  try {
    await signIn(page);
    await expect(page.getByText('Queue running')).toBeVisible();
    await page.getByRole('button', { name: 'Pause the queue' }).click();
    await expect(page.getByText('Queue paused')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Pause the queue' })).toHaveCount(0);
    expect((await adminApi.queue(request)).paused).toBe(true);

    // Another owner's run, created while paused: it waits in line.
    const other = await otherContext.newPage();
    const id = await startSnippet(other, 'echo ran after resume');
    await expect(runState(other)).toHaveAttribute('data-state', 'queued');
    await expect(other.getByTestId('queue-widget')).toContainText('in line');
    const owner = (await otherContext.cookies()).find((c) => c.name === 'runbox_owner')?.value;
    expect(owner).toBeTruthy();

    const waitingCount = before.waiting.length + 1;
    const waiting = page.getByRole('region', { name: `Waiting (${waitingCount})` });
    await expect(waiting).toBeVisible();
    await expect(page.getByText(`${waitingCount} waiting`)).toBeVisible();
    const cells = waiting
      .getByRole('row')
      .filter({ hasText: id.slice(0, 12) })
      .getByRole('cell');
    await expect(cells.nth(0)).toHaveText(String(waitingCount));
    await expect(cells.nth(1)).toContainText('Bash snippet');
    await expect(cells.nth(2)).toHaveText(owner!.slice(0, 12));
    // The time waited counts up; seconds later the run has still not started.
    await expect.poll(async () => msOf(await cells.nth(3).innerText())).toBeGreaterThan(0);
    await expect
      .poll(async () => msOf(await cells.nth(3).innerText()), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(2_000);
    await expect(runState(other)).toHaveAttribute('data-state', 'queued');
    await expect(other.getByTestId('log')).not.toContainText('ran after resume');

    await page.getByRole('button', { name: 'Resume the queue' }).click();
    await expect(page.getByText('Queue running')).toBeVisible();
    expect((await adminApi.queue(request)).paused).toBe(false);
    await expect(runState(other)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
    await expect(other.getByTestId('log')).toContainText('ran after resume');
    await expect(page.getByRole('region', { name: /^Waiting/ })).not.toContainText(id.slice(0, 12));
    const ended = page
      .getByRole('region', { name: 'Recently ended' })
      .getByRole('row')
      .filter({ hasText: id.slice(0, 12) });
    await expect(ended).toContainText('Completed');
    await expect(ended).toContainText(owner!.slice(0, 12));
  } finally {
    await adminApi.resume(request);
    await otherContext.close();
  }
});

test('the admin page shows the self-test layers, the rate limits and the charts', async ({
  page,
  browser,
  request,
}) => {
  // A run that ends, for the charts.
  const runnerContext = await browser.newContext();
  try {
    const runner = await runnerContext.newPage();
    await startSnippet(runner, 'echo for the charts');
    await expect(runState(runner)).toHaveAttribute('data-state', 'completed', {
      timeout: 30_000,
    });
  } finally {
    await runnerContext.close();
  }

  await signIn(page);
  await expect(page.getByLabel('Concurrency')).toHaveValue(String(before.concurrency));

  // The self-test: every layer the server checked, each ok.
  const selfTest = await adminQuery<SelfTest>(request, 'admin.selfTest');
  expect(selfTest.ok).toBe(true);
  expect(selfTest.checks.length).toBeGreaterThan(0);
  const tested = page.getByRole('region', { name: 'Sandbox self-test' });
  await expect(tested.getByText('every layer holds')).toBeVisible();
  await expect(tested.locator('tbody tr')).toHaveCount(selfTest.checks.length);
  for (const check of selfTest.checks) {
    const cells = tested
      .getByRole('row')
      .filter({ has: page.getByRole('cell', { name: check.layer, exact: true }) })
      .getByRole('cell');
    await expect(cells.nth(1)).toHaveText(check.mechanism);
    await expect(cells.nth(2)).toHaveText('ok');
  }

  // The rate limits as the server has them; a change is saved and read back.
  const perHour = page.getByLabel('Runs per hour, per owner');
  const perOwner = page.getByLabel('Concurrent runs per owner');
  await expect(perHour).toHaveValue(String(limitsBefore.runsPerHour));
  await expect(perOwner).toHaveValue(String(limitsBefore.concurrentRunsPerOwner));
  await perHour.fill(String(limitsBefore.runsPerHour + 1));
  await page.getByRole('button', { name: 'Save rate limits' }).click();
  await expect
    .poll(async () => (await adminQuery<RateLimits>(request, 'admin.rateLimits')).runsPerHour)
    .toBe(limitsBefore.runsPerHour + 1);
  await page.reload();
  await expect(page.getByText(/^Queue (running|paused)$/)).toBeVisible();
  await expect(perHour).toHaveValue(String(limitsBefore.runsPerHour + 1));
  await expect(perOwner).toHaveValue(String(limitsBefore.concurrentRunsPerOwner));

  // The charts: drawn, the throughput counting the runs that finished.
  const throughput = page.getByRole('region', { name: 'Runs finished, last hour' });
  await expect(throughput.locator('svg.recharts-surface')).toBeVisible();
  const label = await throughput.getByRole('img').getAttribute('aria-label');
  const counts = (label ?? '').split(':')[1]?.split(',').map(Number) ?? [];
  expect(counts).toHaveLength(12);
  expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  await expect(throughput.locator('.recharts-bar-rectangle').first()).toBeVisible();
  const wait = page.getByRole('region', { name: 'Average wait, last hour' });
  await expect(wait.locator('svg.recharts-surface')).toBeVisible();
  // Every run so far may have started within one 5-minute bucket: a dot shows its average.
  await expect(wait.locator('.recharts-line-dot').first()).toBeVisible();
});
