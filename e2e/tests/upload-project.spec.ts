import { expect, test } from '@playwright/test';
import { runState } from './support/runbox';
import { makeZip } from './support/zip';

// Issue test 2: a zip project uploaded through the archive field runs with the Python tool.
test('an uploaded zip project runs with the python tool and shows its output', async ({
  page,
}, testInfo) => {
  const zip = makeZip([
    {
      name: 'main.py',
      content: 'from helper import word\nprint(f"uploaded project says {word}")\n',
    },
    { name: 'helper.py', content: 'word = "hello-from-zip"\n' },
  ]);
  await page.goto('/');
  await expect(page.locator('[data-example="hello-python"]')).toBeVisible();
  await page.screenshot({ path: testInfo.outputPath('home.png'), fullPage: true });
  await page.getByRole('tab', { name: 'Upload a project' }).click();
  await page.getByLabel('Archive to upload').setInputFiles({
    name: 'project.zip',
    mimeType: 'application/zip',
    buffer: zip,
  });
  const uploaded = page.getByRole('status').filter({ hasText: 'Uploaded' });
  await expect(uploaded).toContainText('Uploaded project.zip: 2 files');
  await page.locator('#tool').selectOption('python');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);

  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByTestId('log')).toContainText('uploaded project says hello-from-zip');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('python run');
});
