import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { runState, typeSnippet } from './support/runbox';

/**
 * What the API says of a run and the form shows: a snippet's verdict against its expected
 * output, its arguments and variables, and the links an upload left out.
 */

async function openOptions(page: Page): Promise<void> {
  await page.getByText('Arguments, environment and expected output').click();
}

test('a snippet with an expected output shows its verdict: the first differing line', async ({
  page,
}) => {
  await page.goto('/');
  await typeSnippet(page, 'echo hello\necho wrld\necho three\n');
  await openOptions(page);
  await page.getByLabel(/Expected output/).fill('hello\nworld\nthree\n');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  const verdict = page.getByTestId('verdict');
  await expect(verdict.getByTestId('verdict-status')).toHaveAttribute('data-status', 'failed');
  await expect(verdict).toContainText('Failed: line 2 differs');
  await expect(verdict).toContainText('line 2, from character 2');
  await expect(verdict.getByTestId('verdict-expected')).toHaveText('world');
  await expect(verdict.getByTestId('verdict-actual')).toHaveText('wrld');
});

test('a snippet whose output matches passes; its arguments and variables are shown', async ({
  page,
}) => {
  await page.goto('/');
  await typeSnippet(page, 'echo "$1|$2|$GREETING"\n');
  await openOptions(page);
  await page.getByLabel(/^Arguments/).fill('first arg\nsecond');
  await page.getByLabel(/Environment variables/).fill('GREETING=hi there');
  await page.getByLabel(/Expected output/).fill('first arg|second|hi there');
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByTestId('log')).toContainText('first arg|second|hi there');
  await expect(page.getByTestId('verdict-status')).toHaveAttribute('data-status', 'passed');
  await expect(page.getByTestId('run-args').locator('li')).toHaveText(['first arg', 'second']);
  await expect(page.getByTestId('run-env')).toHaveText('GREETING=hi there');

  // Run again keeps them.
  await page.getByRole('link', { name: 'Run again' }).click();
  await expect(page.getByLabel(/^Arguments/)).toHaveValue('first arg\nsecond');
  await expect(page.getByLabel(/Environment variables/)).toHaveValue('GREETING=hi there');
});

test('an upload that leaves a link out says which, and why', async ({ page }) => {
  const dir = mkdtempSync(join(tmpdir(), 'runbox-e2e-links-'));
  try {
    writeFileSync(join(dir, 'main.py'), 'print("linked")\n');
    symlinkSync('/etc/passwd', join(dir, 'escape'));
    const tar = execFileSync('tar', ['-cf', '-', '-C', dir, '.']);
    await page.goto('/');
    await page.getByRole('tab', { name: 'Upload a project' }).click();
    await page.getByLabel('Archive to upload').setInputFiles({
      name: 'links.tar',
      mimeType: 'application/x-tar',
      buffer: tar,
    });
    const uploaded = page.getByRole('status').filter({ hasText: 'Uploaded' });
    await expect(uploaded).toContainText('Uploaded links.tar');
    const warnings = page.getByTestId('upload-warnings');
    await expect(warnings).toContainText('1 entry was left out');
    await expect(warnings).toContainText('escape');
    await expect(warnings).toContainText('link-absolute');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
