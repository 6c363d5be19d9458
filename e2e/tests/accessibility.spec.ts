import { expect, test } from '@playwright/test';
import { expectNoViolations } from './support/axe';
import { ADMIN_TOKEN, runState, startSnippet } from './support/runbox';

/**
 * Every page passes axe's WCAG 2.1 A and AA rules (labels, names, contrast, landmarks, ARIA) in
 * the light and the dark theme, and a run can be started and followed with the keyboard alone.
 */

for (const colorScheme of ['light', 'dark'] as const) {
  test(`every page passes axe's WCAG A and AA rules (${colorScheme})`, async ({ page }) => {
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

    await page.goto('/admin');
    await expect(page.getByLabel('Admin token')).toBeVisible();
    await expectNoViolations(page, 'admin, signed out');
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('heading', { name: /self-test/i })).toBeVisible();
    await expectNoViolations(page, 'admin, signed in');

    await page.goto('/runs/no-such-run');
    await expect(page.getByText('This run cannot be shown')).toBeVisible();
    await expectNoViolations(page, 'missing run');
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
