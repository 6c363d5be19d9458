import { expect, test, type Page } from '@playwright/test';
import { runState, typeSnippet } from './support/runbox';

/**
 * Interactive runs (docs/sessions.md): a snippet marked interactive keeps its stdin open, and its
 * run page has an input box while it runs: Enter sends the line, Close input gives end of file,
 * Send SIGINT interrupts the program.
 */

async function startInteractive(page: Page, code: string, language: string): Promise<void> {
  await page.goto('/');
  await typeSnippet(page, code, language);
  await page.getByLabel(/Interactive/).check();
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
}

test('an input() prompt asks for two lines; they are typed in the browser and printed', async ({
  page,
}, testInfo) => {
  await startInteractive(
    page,
    'first = input("first? ")\nsecond = input("second? ")\nprint(f"got {first} and {second}")\n',
    'python',
  );
  const log = page.getByTestId('log');
  const line = page.getByLabel(/A line for the program/);
  await expect(log).toContainText('first?', { timeout: 30_000 });
  await expect(runState(page)).toHaveAttribute('data-state', 'running');
  await line.fill('alpha');
  await line.press('Enter');
  await expect(log).toContainText('second?');
  await line.fill('beta gamma');
  await line.press('Enter');
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(log).toContainText('got alpha and beta gamma');
  await expect(page.getByTestId('sent-lines')).toContainText('alpha');
  await expect(page.getByTestId('sent-lines')).toContainText('beta gamma');
  // Once it has ended the box is gone.
  await expect(line).toHaveCount(0);
  await expect(page.getByTestId('run-input')).toContainText('takes no more input');
  await page.screenshot({ path: testInfo.outputPath('interactive.png'), fullPage: true });
});

test('close input gives the program end of file', async ({ page }) => {
  await startInteractive(
    page,
    'import sys\nprint("reading", flush=True)\ndata = sys.stdin.read()\nprint(f"read {len(data.splitlines())} lines")\n',
    'python',
  );
  const log = page.getByTestId('log');
  await expect(log).toContainText('reading', { timeout: 30_000 });
  const line = page.getByLabel(/A line for the program/);
  for (const text of ['one', 'two', 'three']) {
    await line.fill(text);
    await line.press('Enter');
  }
  await expect(page.getByTestId('sent-lines').locator('li')).toHaveCount(3);
  await page.getByRole('button', { name: 'Close input' }).click();
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(log).toContainText('read 3 lines');
});

test('Send SIGINT interrupts the running program', async ({ page }) => {
  await startInteractive(
    page,
    [
      'import time',
      'try:',
      '    print("waiting", flush=True)',
      '    while True:',
      '        time.sleep(0.05)',
      'except KeyboardInterrupt:',
      '    print("caught SIGINT")',
      '',
    ].join('\n'),
    'python',
  );
  const log = page.getByTestId('log');
  await expect(log).toContainText('waiting', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Send SIGINT' }).click();
  await expect(page.getByText('SIGINT sent.')).toBeVisible();
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(log).toContainText('caught SIGINT');
});
