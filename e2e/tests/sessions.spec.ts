import { expect, test } from '@playwright/test';
import { ADMIN_TOKEN } from './support/runbox';
import { cellState, closeSession, runCell, startSession } from './support/sessions';

/**
 * Sessions in the browser (docs/sessions.md): a notebook whose cells share one Python kernel,
 * with its variables panel, interrupt, restart and close; its cells in the history; the admin's
 * Sessions table.
 */

test('a notebook: cells share x, the variables show it, interrupt keeps it, restart clears it', async ({
  page,
}, testInfo) => {
  const id = await startSession(page, 'python');
  try {
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Python session');
    await expect(page.getByTestId('session-state')).toHaveAttribute('data-state', 'active');
    // An idle session counts down to its hibernation (the server's idle time, 10 min here).
    await expect(page.getByTestId('hibernation')).toContainText('Hibernates in');

    const first = await runCell(page, 'x = 41\n');
    await expect(cellState(first)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });

    const second = await runCell(page, 'print(x + 1)\n');
    await expect(cellState(second)).toHaveAttribute('data-state', 'completed', {
      timeout: 30_000,
    });
    await expect(second.getByTestId('log')).toContainText('42');

    // The variables panel, asked again after the cell: x with its type and value.
    const variables = page.getByTestId('variables');
    const x = variables.locator('tr[data-variable="x"]');
    await expect(x).toContainText('int');
    await expect(x).toContainText('41');
    await page.screenshot({ path: testInfo.outputPath('notebook.png'), fullPage: true });

    // A cell that never ends, stopped with Interrupt: it ends cancelled, the session goes on.
    const loop = await runCell(
      page,
      'import time\nprint("looping", flush=True)\nwhile True:\n    time.sleep(0.05)\n',
    );
    await expect(loop.getByTestId('log')).toContainText('looping', { timeout: 30_000 });
    await expect(cellState(loop)).toHaveAttribute('data-state', 'running');
    await expect(variables).toContainText('A cell is running');
    await page.getByRole('button', { name: 'Interrupt' }).click();
    await expect(cellState(loop)).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });

    const after = await runCell(page, 'print(f"still {x}")\n');
    await expect(cellState(after)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
    await expect(after.getByTestId('log')).toContainText('still 41');

    // A cell's value (its last expression) shows under its output.
    const valued = await runCell(page, 'x * 2\n');
    await expect(cellState(valued)).toHaveAttribute('data-state', 'completed', {
      timeout: 30_000,
    });
    await expect(valued.getByTestId('cell-value')).toContainText('82');

    // Restart: a fresh kernel, nothing kept, and the page says so.
    await page.getByRole('button', { name: 'Restart' }).click();
    await expect(page.getByTestId('session-notice')).toContainText('The kernel restarted');
    await expect(page.getByTestId('session-notice')).toContainText('No variable was restored');
    await expect(variables).toContainText('No variables yet');
    const gone = await runCell(page, 'print(x)\n');
    await expect(cellState(gone)).toHaveAttribute('data-state', 'failed', { timeout: 30_000 });
    await expect(gone.getByTestId('log')).toContainText('NameError');
    const secondId = await second.getAttribute('data-cell-id');

    // The history lists the cells, titled as cells, each with its session.
    await page.goto('/runs');
    const row = page.getByRole('row').filter({ hasText: secondId!.slice(0, 12) });
    await expect(row).toContainText('Python cell');
    // Not "Run again" as a snippet (its code needs the session's x): its session instead.
    await expect(row.getByRole('link', { name: `Run again: ${secondId}` })).toHaveCount(0);
    await row.getByRole('link', { name: `Open the session of cell ${secondId}` }).click();
    await expect(page).toHaveURL(new RegExp(`/sessions/${id}$`));
    await expect(page.getByTestId('cell')).toHaveCount(6);

    // A cell's run page says it is a cell and links to its session.
    await page.goto(`/runs/${secondId}`);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Python cell');
    await expect(page.getByTestId('log')).toContainText('42');
    await expect(page.getByRole('link', { name: 'Run again' })).toHaveCount(0);
    await page.getByRole('link', { name: 'Open its session' }).click();
    await expect(page).toHaveURL(new RegExp(`/sessions/${id}$`));

    // A "run again" link to a cell says where it runs again rather than make it a snippet.
    await page.goto(`/?again=${secondId}`);
    await expect(page.getByTestId('run-again')).toContainText('is a cell of a session');
    await expect(page.getByRole('tab', { name: 'Write a snippet' })).toHaveAttribute(
      'aria-selected',
      'false',
    );

    // Close: the session takes no more cells.
    await page.goto(`/sessions/${id}`);
    await page.getByRole('button', { name: 'Close', exact: true }).click();
    await expect(page.getByTestId('session-state')).toHaveAttribute('data-state', 'closed');
    await expect(page.getByText('This session is closed: it takes no more cells.')).toBeVisible();
  } finally {
    await closeSession(page, id);
  }
});

test('the admin’s Sessions table lists a session with its owner and closes it', async ({
  page,
  browser,
}) => {
  const id = await startSession(page, 'javascript');
  const adminContext = await browser.newContext();
  try {
    const cell = await runCell(page, 'globalThis.scores = [1, 2, 3];\nconsole.log("kept");\n');
    await expect(cellState(cell)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });

    const admin = await adminContext.newPage();
    await admin.goto('/admin');
    await admin.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    const row = admin.locator(`tr[data-session-id="${id}"]`);
    await expect(row).toContainText('JavaScript');
    await expect(row).toContainText('Active');
    // Its owner is the browser that made it (an anonymous owner), not the admin.
    await expect(row.locator('td').nth(1)).not.toHaveText('—');
    await expect(row.locator('td').nth(1)).not.toHaveText('admin');
    // Memory of its running kernel.
    await expect(row.locator('td').nth(6)).toContainText('MiB');

    await admin.getByRole('button', { name: `Close session ${id}` }).click();
    await expect(row).toHaveCount(0);

    // The owner's page learns it at its next look.
    await expect(page.getByTestId('session-state')).toHaveAttribute('data-state', 'closed', {
      timeout: 20_000,
    });
    await expect(page.getByTestId('hibernation')).toContainText('closed by the admin');
  } finally {
    await closeSession(page, id);
    await adminContext.close();
  }
});

test('an idle session hibernates; the next cell wakes it with its JSON variables and names the rest', async ({
  page,
}) => {
  // Made through the API with a one-second idle time (the form takes minutes).
  await page.goto('/sessions');
  const created = await page.request.post('/api/trpc/sessions.create', {
    headers: { 'content-type': 'application/json' },
    data: JSON.stringify({ language: 'python', idleTtlMs: 1_000 }),
  });
  expect(created.status(), await created.text()).toBe(200);
  const id = ((await created.json()) as { result: { data: { id: string } } }).result.data.id;
  try {
    await page.goto(`/sessions/${id}`);
    const cell = await runCell(page, 'x = 41\nf = lambda: x\n');
    await expect(cellState(cell)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });

    // The sweep (every 5 s) puts it to sleep; the page hears it at its next look.
    await expect(page.getByTestId('session-state')).toHaveAttribute('data-state', 'hibernated', {
      timeout: 30_000,
    });
    await expect(page.getByTestId('hibernation')).toContainText('The next cell wakes it');
    // Asleep, the variables come from its snapshot: x kept, f named as lost.
    const variables = page.getByTestId('variables');
    await expect(variables).toContainText('from the last snapshot');
    await expect(variables.locator('tr[data-variable="x"]')).toContainText('41');
    await expect(variables.getByTestId('lost-variables')).toContainText('f (function');

    // The sessions list says so too.
    await page.goto('/sessions');
    await expect(page.locator(`tr[data-session-id="${id}"]`)).toContainText('Hibernated');
    await page.locator(`tr[data-session-id="${id}"]`).getByRole('link').click();

    const woken = await runCell(page, 'print(x + 1)\n');
    await expect(cellState(woken)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
    await expect(woken.getByTestId('log')).toContainText('42');
    // The cell and the session both say what the wake kept and lost.
    await expect(woken.getByRole('list', { name: 'Warnings of cell 2' })).toContainText('woke');
    const notice = page.getByTestId('session-notice');
    await expect(notice).toContainText('The session woke from hibernation');
    await expect(notice).toContainText('Restored: x');
    await expect(notice).toContainText('Lost: f (function');
  } finally {
    await closeSession(page, id);
  }
});
