import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { ADMIN_TOKEN } from '../../playwright.config';

export { ADMIN_TOKEN };

/** Types a program into the snippet editor as one paste (typing would auto-close brackets). */
export async function typeSnippet(page: Page, code: string, language = 'bash'): Promise<void> {
  await page.getByRole('tab', { name: 'Write a snippet' }).click();
  await page.selectOption('#language', language);
  await page.locator('.cm-content').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.locator('.cm-content').evaluate((el, text) => {
    const data = new DataTransfer();
    data.setData('text/plain', text);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  }, code);
}

/** Starts a bash snippet from the home page and waits for its run page; returns the run id. */
export async function startSnippet(page: Page, code: string): Promise<string> {
  await page.goto('/');
  await typeSnippet(page, code);
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  return page.url().split('/').pop()!;
}

export function runState(page: Page) {
  return page.getByTestId('run-state');
}

async function admin<T>(
  request: APIRequestContext,
  procedure: string,
  input?: unknown,
  method: 'GET' | 'POST' = 'POST',
): Promise<T> {
  const headers = { 'x-runbox-admin-token': ADMIN_TOKEN };
  const response =
    method === 'GET'
      ? await request.get(`/api/trpc/${procedure}`, { headers })
      : await request.post(`/api/trpc/${procedure}`, {
          headers: { ...headers, 'content-type': 'application/json' },
          data: JSON.stringify(input ?? null),
        });
  expect(response.status(), `${procedure}: ${await response.text()}`).toBe(200);
  const body = (await response.json()) as { result: { data: T } };
  return body.result.data;
}

export interface QueueView {
  concurrency: number;
  paused: boolean;
  waiting: { id: string }[];
  running: { id: string }[];
}

export const adminApi = {
  queue: (request: APIRequestContext) => admin<QueueView>(request, 'admin.queue', undefined, 'GET'),
  setConcurrency: (request: APIRequestContext, concurrency: number) =>
    admin<{ concurrency: number }>(request, 'admin.setConcurrency', { concurrency }),
  pause: (request: APIRequestContext) => admin(request, 'admin.pause'),
  resume: (request: APIRequestContext) => admin(request, 'admin.resume'),
  cancel: (request: APIRequestContext, id: string) => admin(request, 'admin.cancel', { id }),
  /** A run of the admin's own (owner `admin`), created through the API as a script would. */
  createRun: (request: APIRequestContext, input: Record<string, unknown>) =>
    admin<{ id: string }>(request, 'runs.create', input),
};
