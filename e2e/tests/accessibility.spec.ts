import { expect, test } from '@playwright/test';
import { expectNoViolations } from './support/axe';
import { ADMIN_TOKEN, runState, startSnippet, typeSnippet } from './support/runbox';
import { cellState, closeSession, runCell, startSession } from './support/sessions';

/**
 * Every page passes axe's WCAG 2.1 A and AA rules (labels, names, contrast, landmarks, ARIA) in
 * the light and the dark theme, and a run can be started and followed with the keyboard alone.
 */

for (const colorScheme of ['light', 'dark'] as const) {
  test(`every page passes axe's WCAG A and AA rules (${colorScheme})`, async ({ page }) => {
    let sessionId = '';
    await page.emulateMedia({ colorScheme });
    const runId = await startSnippet(
      page,
      'printf "\\033[31mred\\033[0m and plain\\n"; echo oops >&2\n',
    );
    await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
    await expect(page.getByTestId('log')).toContainText('oops');
    await expectNoViolations(page, 'run page');

    await page.goto('/');
    await expect(page.locator('[data-example="hello-python"]')).toBeVisible();
    await expectNoViolations(page, 'home, examples');
    await page.getByRole('tab', { name: 'Write a snippet' }).click();
    await expect(page.locator('.cm-content')).toBeVisible();
    await expectNoViolations(page, 'home, snippet');
    await page.getByRole('tab', { name: 'Upload a project' }).click();
    await expectNoViolations(page, 'home, upload');

    await page.goto('/runs');
    await expect(page.getByRole('link', { name: `Open run ${runId}` })).toBeVisible();
    await expectNoViolations(page, 'history');

    // An interactive run with an expected output: its input box, then its verdict.
    await page.goto('/');
    await typeSnippet(page, 'read line\necho "got $line"\n');
    await page.getByLabel(/Interactive/).check();
    await page.getByText('Arguments, environment and expected output').click();
    await page.getByLabel(/Expected output/).fill('got nothing');
    await expectNoViolations(page, 'home, snippet with its options');
    await page.getByRole('button', { name: /^Run/ }).click();
    await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
    const line = page.getByLabel(/A line for the program/);
    await expect(line).toBeVisible();
    await expectNoViolations(page, 'interactive run page');
    await line.fill('something');
    await line.press('Enter');
    await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
    await expect(page.getByTestId('verdict-status')).toHaveAttribute('data-status', 'failed');
    await expectNoViolations(page, 'run page with a verdict');

    // Sessions: the list with its form, then a notebook with cells and variables.
    await page.goto('/sessions');
    await expect(page.getByRole('button', { name: 'Start a session' })).toBeVisible();
    await expectNoViolations(page, 'sessions');
    sessionId = await startSession(page, 'python');
    const cell = await runCell(page, 'x = 41\nprint(x)\n');
    await expect(cellState(cell)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
    await expect(page.getByTestId('variables').locator('tr[data-variable="x"]')).toBeVisible();
    const failing = await runCell(page, 'print(y)\n');
    await expect(cellState(failing)).toHaveAttribute('data-state', 'failed', { timeout: 30_000 });
    await expectNoViolations(page, 'session notebook');
    await page.getByRole('button', { name: 'Restart' }).click();
    await expect(page.getByTestId('session-notice')).toBeVisible();
    await expectNoViolations(page, 'session notebook, restarted');

    await page.goto('/admin');
    await expect(page.getByLabel('Admin token')).toBeVisible();
    await expectNoViolations(page, 'admin, signed out');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: /self-test/i })).toBeVisible();
    // The session above is in the admin's Sessions table.
    await expect(page.locator(`tr[data-session-id="${sessionId}"]`)).toBeVisible();
    await expectNoViolations(page, 'admin, signed in');

    await page.goto('/runs/no-such-run');
    await expect(page.getByText('This run cannot be shown')).toBeVisible();
    await expectNoViolations(page, 'missing run');

    await closeSession(page, sessionId);
    await page.goto(`/sessions/${sessionId}`);
    await expect(page.getByTestId('session-state')).toHaveAttribute('data-state', 'closed');
    await expectNoViolations(page, 'closed session');
  });
}

test('a run can be picked, started and followed with the keyboard alone', async ({ page }) => {
  await page.goto('/');
  await expect(page.locator('[data-example="hello-python"]')).toBeVisible();
  // Tab until the example has focus, then choose it with the keyboard.
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.getAttribute('data-example'));
    if (focused === 'hello-python') break;
  }
  await expect(page.locator('[data-example="hello-python"]')).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('[data-example="hello-python"]')).toHaveAttribute(
    'aria-pressed',
    'true',
  );
  // On to the Run button, and press it.
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    const name = await page.evaluate(() => document.activeElement?.textContent ?? '');
    if (/^Run/.test(name.trim())) break;
  }
  await expect(page.getByRole('button', { name: /^Run/ })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  // The log takes focus from the keyboard (it scrolls with the arrow keys).
  await page.getByTestId('log').focus();
  await expect(page.getByTestId('log')).toBeFocused();
});
