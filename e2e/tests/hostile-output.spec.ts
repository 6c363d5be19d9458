import { expect, test, type Page } from '@playwright/test';

async function typeSnippet(page: Page, code: string): Promise<void> {
  await page.getByRole('tab', { name: 'Write a snippet' }).click();
  await page.selectOption('#language', 'bash');
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // Paste the whole program at once (typing would let the editor auto-close brackets).
  await page.locator('.cm-content').evaluate((el, text) => {
    const data = new DataTransfer();
    data.setData('text/plain', text);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  }, code);
}

// Issue test 8: HTML, OSC 8 hyperlinks and OSC 52 clipboard writes in the output stay inert text.
test('hostile output shows as text: no dialog, no link, no clipboard write', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto('/');
  await typeSnippet(
    page,
    String.raw`echo '<img src=x onerror=alert(1)>'
printf '\033]8;;https://evil.example/\033\\click-me\033]8;;\033\\ after-link\n'
printf '\033]52;c;aGFja2Vk\007clipboard-text\n'
printf '\033]0;pwned-title\007title-text\n'
printf '\033[31mred\033[0m done\n'`,
  );
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\//);
  await expect(page.getByTestId('run-state')).toHaveAttribute('data-state', 'completed', {
    timeout: 30_000,
  });

  const log = page.getByTestId('log');
  await expect(log).toContainText('<img src=x onerror=alert(1)>');
  await expect(log).toContainText('click-me after-link');
  await expect(log).toContainText('clipboard-text');
  await expect(log).toContainText('title-text');
  await expect(log).not.toContainText('evil.example');
  await expect(log).not.toContainText('aGFja2Vk');
  await expect(log).not.toContainText('pwned-title');
  expect(await log.locator('img').count()).toBe(0);
  expect(await log.locator('a').count()).toBe(0);
  expect(await page.title()).not.toContain('pwned');
  // The colour survives as a style on a text span.
  const red = log.locator('span', { hasText: /^red$/ });
  await expect(red).toHaveCount(1);
  expect(await red.getAttribute('style')).toContain('--ansi-red');
  await page.waitForTimeout(500);
  expect(dialogs).toEqual([]);
});
