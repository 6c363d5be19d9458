import { expect, type Page } from '@playwright/test';

/** Starts a session from the sessions page and waits for its notebook; returns its id. */
export async function startSession(page: Page, language = 'python'): Promise<string> {
  await page.goto('/sessions');
  await page.locator('#session-language').selectOption(language);
  await page.getByRole('button', { name: 'Start a session' }).click();
  await expect(page).toHaveURL(/\/sessions\/[\w-]+$/, { timeout: 30_000 });
  await expect(page.getByTestId('session-state')).toBeVisible();
  return page.url().split('/').pop()!;
}

/**
 * Types code into the next cell's editor as one paste (typing would auto-indent and close
 * brackets) and runs it with the button; returns the new cell.
 */
export async function runCell(page: Page, code: string) {
  const cells = page.getByTestId('cell');
  const editor = page.locator('.cm-content');
  // The editor shows with the session's cells: counted once they are there.
  await expect(editor).toBeVisible();
  const before = await cells.count();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await editor.evaluate((el, text) => {
    const data = new DataTransfer();
    data.setData('text/plain', text);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  }, code);
  await page.getByRole('button', { name: /^Run cell/ }).click();
  await expect(cells).toHaveCount(before + 1);
  return cells.nth(before);
}

export function cellState(cell: ReturnType<Page['getByTestId']>) {
  return cell.getByTestId('cell-state');
}

/** Closes a session through the API with the page's own cookie (its owner), as cleanup. */
export async function closeSession(page: Page, id: string): Promise<void> {
  await page.request.post('/api/trpc/sessions.close', {
    headers: { 'content-type': 'application/json' },
    data: JSON.stringify({ id }),
  });
}
