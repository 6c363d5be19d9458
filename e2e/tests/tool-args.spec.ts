import { expect, test } from '@playwright/test';
import { runState } from './support/runbox';
import { makeZip } from './support/zip';

/**
 * Issue 15: a tool run's arguments and every limit from the new-run form. pytest on an uploaded
 * src-layout project, with `-k` picking two of its three tests and a process limit and a wall
 * time set in the form: the run page shows the selection in pytest's own counts, the variable
 * runbox set for the layout, and the limits in force; "Run again" brings both back.
 */
test('a tool’s argument and limits set in the form are the run’s', async ({ page }) => {
  const zip = makeZip([
    { name: 'src/calc/__init__.py', content: 'def add(a, b):\n    return a + b\n' },
    {
      name: 'tests/test_calc.py',
      content:
        'from calc import add\n\n\n' +
        'def test_add():\n    assert add(2, 3) == 5\n\n\n' +
        'def test_add_zero():\n    assert add(0, 3) == 3\n\n\n' +
        'def test_other():\n    assert add(1, 1) == 2\n',
    },
  ]);
  await page.goto('/');
  await page.getByRole('tab', { name: 'Upload a project' }).click();
  await page.getByLabel('Archive to upload').setInputFiles({
    name: 'calc.zip',
    mimeType: 'application/zip',
    buffer: zip,
  });
  await expect(page.getByRole('status').filter({ hasText: 'Uploaded' })).toContainText(
    'Uploaded calc.zip: 2 files',
  );

  await page.locator('#tool').selectOption('pytest');
  const args = page.getByRole('group', { name: 'Arguments for pytest' });
  await expect(args).toBeVisible();
  await args.getByLabel('-k', { exact: true }).fill('add');
  // Every limit is offered with the server's range.
  await expect(page.locator('#processes-range')).toHaveText('4 to 1024');
  await expect(page.locator('#cpus')).toBeVisible();
  await expect(page.locator('#open-files')).toBeVisible();
  await page.locator('#processes').fill('300');
  await page.locator('#wall').fill('45');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  const runId = page.url().split('/').pop()!;

  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 60_000 });
  await expect(page.getByTestId('log')).toContainText('2 passed, 1 deselected');
  await expect(page.getByRole('region', { name: 'Warnings' })).toContainText(
    'PYTHONPATH=/workspace/src was set',
  );
  await expect(page.locator('dt:has-text("Time limit") + dd')).toHaveText('45 s');

  const reply = await page.request.get(
    `/api/trpc/runs.get?input=${encodeURIComponent(JSON.stringify({ id: runId }))}`,
  );
  expect(reply.status()).toBe(200);
  const run = ((await reply.json()) as { result: { data: Record<string, unknown> } }).result.data;
  expect(run.args).toEqual(['-k', 'add']);
  expect(run.limits).toMatchObject({ maxProcesses: 300, wallTimeMs: 45_000 });

  await page.getByRole('link', { name: 'Run again' }).click();
  await expect(page).toHaveURL(new RegExp(`\\?again=${runId}$`));
  await expect(page.locator('#tool')).toHaveValue('pytest');
  await expect(
    page.getByRole('group', { name: 'Arguments for pytest' }).getByLabel('-k', { exact: true }),
  ).toHaveValue('add');
  await expect(page.locator('#processes')).toHaveValue('300');
});

test('an argument the tool refuses is named under the arguments, before anything runs', async ({
  page,
}) => {
  const zip = makeZip([{ name: 'test_one.py', content: 'def test_one():\n    pass\n' }]);
  await page.goto('/');
  await page.getByRole('tab', { name: 'Upload a project' }).click();
  await page.getByLabel('Archive to upload').setInputFiles({
    name: 'one.zip',
    mimeType: 'application/zip',
    buffer: zip,
  });
  await expect(page.getByRole('status').filter({ hasText: 'Uploaded' })).toContainText(
    'Uploaded one.zip: 1 file',
  );
  await page.locator('#tool').selectOption('pytest');
  const args = page.getByRole('group', { name: 'Arguments for pytest' });
  await args.getByLabel('Paths').fill('../outside');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(args.getByRole('alert')).toContainText('args.0 "../outside"');
  await expect(page).not.toHaveURL(/\/runs\//);
});
