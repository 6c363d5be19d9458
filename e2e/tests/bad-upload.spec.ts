import { expect, test } from '@playwright/test';
import { makeZip } from './support/zip';

// Issue test 9: a zip with a `../evil` entry is refused with a message naming the rule.
test('a zip with a ../ entry is refused, naming the path-traversal rule', async ({ page }) => {
  const zip = makeZip([
    { name: 'main.py', content: 'print("never runs")\n' },
    { name: '../evil', content: 'escaped\n' },
  ]);
  await page.goto('/');
  await page.getByRole('tab', { name: 'Upload a project' }).click();
  await page.getByLabel('Archive to upload').setInputFiles({
    name: 'evil.zip',
    mimeType: 'application/zip',
    buffer: zip,
  });
  const alert = page.getByRole('alert').filter({ hasText: 'Upload refused.' });
  await expect(alert).toBeVisible();
  await expect(alert).toContainText(
    'entry "../evil": path traversal (.. components are not allowed)',
  );
  await expect(alert.locator('code').first()).toHaveText('path-traversal');
  await expect(alert.locator('code').nth(1)).toHaveText('../evil');
  // Nothing was kept: no project to run.
  await expect(page.getByText('Upload a project first.')).toBeVisible();
  await expect(page.getByRole('button', { name: /^Run/ })).toBeDisabled();
});
