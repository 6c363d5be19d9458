import { expect, test } from '@playwright/test';
import { runState } from './support/runbox';
import { makeZip } from './support/zip';

/** "Run again" sets the form up as the run was: the same project or example, tool and limits. */

test('run again on an uploaded project: same project, tool and limits, a new run', async ({
  page,
}) => {
  const zip = makeZip([{ name: 'main.py', content: 'print("again and again")\n' }]);
  await page.goto('/');
  await page.getByRole('tab', { name: 'Upload a project' }).click();
  await page.getByLabel('Archive to upload').setInputFiles({
    name: 'again.zip',
    mimeType: 'application/zip',
    buffer: zip,
  });
  await expect(page.getByRole('status').filter({ hasText: 'Uploaded' })).toContainText(
    'Uploaded again.zip: 1 file',
  );
  await page.locator('#tool').selectOption('python');
  await page.locator('#wall').fill('7');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  const first = page.url().split('/').pop()!;
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });

  await page.getByRole('link', { name: 'Run again' }).click();
  await expect(page).toHaveURL(new RegExp(`\\?again=${first}$`));
  await expect(page.getByRole('tab', { name: 'Upload a project' })).toHaveAttribute(
    'aria-selected',
    'true',
  );
  await expect(page.getByRole('status').filter({ hasText: 'Uploaded' })).toContainText(
    'Uploaded again.zip: 1 file',
  );
  await expect(page.getByTestId('run-again')).toContainText('python run');
  await expect(page.locator('#tool')).toHaveValue('python');
  await expect(page.locator('#wall')).toHaveValue('7');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).not.toHaveURL(new RegExp(`/runs/${first}$`));
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByTestId('log')).toContainText('again and again');
});

test('run again on an example, from the history: the example is picked with its tool', async ({
  page,
}) => {
  await page.goto('/');
  await page.locator('[data-example="hello-python"]').click();
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  const first = page.url().split('/').pop()!;
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });

  await page.goto('/runs');
  await page.getByRole('link', { name: `Run again: ${first}` }).click();
  await expect(page.getByTestId('run-again')).toContainText('on hello-python');
  await expect(page.locator('[data-example="hello-python"]')).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  await expect(page.locator('#tool')).toHaveValue('python');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).not.toHaveURL(new RegExp(`/runs/${first}$`));
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
});
