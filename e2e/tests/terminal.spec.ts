import { expect, test, type Page } from '@playwright/test';
import { expectNoViolations } from './support/axe';
import { runState, typeSnippet } from './support/runbox';

/**
 * Runs in a terminal (a snippet with "Run in a terminal (tty)"): the program runs on a
 * pseudo-terminal, and its run page shows a terminal (xterm.js) that takes the typing key by key,
 * shows the terminal's echo and the program's prompts, follows the window's size (the program
 * gets SIGWINCH), and is read-only once the run has ended.
 */

async function startInTerminal(page: Page, code: string): Promise<void> {
  await page.goto('/');
  await typeSnippet(page, code, 'python');
  await page.getByLabel('Run in a terminal (tty)', { exact: false }).check();
  // A terminal run is always interactive: the box shows it, and cannot be unticked.
  await expect(page.getByLabel(/Interactive/)).toBeChecked();
  await expect(page.getByLabel(/Interactive/)).toBeDisabled();
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
}

/** The terminal's size as its header shows it (what was last sent to the program). */
async function shownSize(page: Page): Promise<{ cols: number; rows: number }> {
  const text = (await page.getByTestId('terminal-size').textContent()) ?? '';
  const match = /(\d+)×(\d+)/.exec(text);
  expect(match, `terminal size shown: ${text}`).not.toBeNull();
  return { cols: Number(match![1]), rows: Number(match![2]) };
}

test('a prompt in the terminal is answered by typing into it; the run ends completed', async ({
  page,
}, testInfo) => {
  await startInTerminal(
    page,
    [
      'import os, sys',
      'size = os.get_terminal_size()',
      'print(f"isatty={sys.stdin.isatty()} size={size.columns}x{size.lines}")',
      'name = input("name? ")',
      'print(f"\\x1b[32mhello, {name}!\\x1b[0m")',
      '',
    ].join('\n'),
  );
  const terminal = page.getByTestId('terminal');
  await expect(terminal).toContainText('name?', { timeout: 30_000 });
  await expect(terminal).toContainText('isatty=True');
  await expect(terminal).toContainText(/size=\d+x\d+/);
  await expect(runState(page)).toHaveAttribute('data-state', 'running');
  // The terminal takes the typing: no separate input box on a terminal run's page.
  await expect(page.getByTestId('run-input')).toHaveCount(0);
  const input = page.getByRole('textbox', { name: 'Terminal of the run' });
  await expectNoViolations(page, 'terminal run page');

  // Reached with the keyboard: Tab from the button before it, and Shift+Tab leaves again.
  const sigint = page.getByRole('button', { name: 'Send SIGINT' });
  await sigint.focus();
  await page.keyboard.press('Tab');
  await expect(input).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(sigint).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(input).toBeFocused();
  await page.keyboard.type('Ada');
  await page.keyboard.press('Enter');
  // The terminal on the server echoed what it read, on the prompt's line.
  await expect(terminal).toContainText('name? Ada');
  await expect(terminal).toContainText('hello, Ada!');
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(
    page.getByRole('textbox', { name: 'Terminal of the run (read-only: the run has ended)' }),
  ).toBeAttached();
  await expect(page.getByTestId('terminal-hint')).toContainText('read-only');
  await page.screenshot({ path: testInfo.outputPath('terminal.png'), fullPage: true });

  // Loaded again, the page replays the terminal from the start.
  await page.reload();
  await expect(terminal).toContainText('name? Ada', { timeout: 15_000 });
  await expect(terminal).toContainText('hello, Ada!');
});

test('resizing the window resizes the terminal, and the program hears it (SIGWINCH)', async ({
  page,
}) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await startInTerminal(
    page,
    [
      'import os, signal',
      'def report(*_):',
      '    size = os.get_terminal_size()',
      '    print(f"\\r\\nresized to {size.columns}x{size.lines}", flush=True)',
      'signal.signal(signal.SIGWINCH, report)',
      'print("ready", flush=True)',
      'input("press Enter to finish ")',
      'print("done")',
      '',
    ].join('\n'),
  );
  const terminal = page.getByTestId('terminal');
  await expect(terminal).toContainText('press Enter to finish', { timeout: 30_000 });
  const before = await shownSize(page);
  await page.setViewportSize({ width: 760, height: 560 });
  // Narrower and shorter: fewer columns and rows. The layout may pass through a size or two on
  // the way; the program is told the one it settles on (the terminal's header shows it).
  await expect
    .poll(
      async () => {
        const now = await shownSize(page);
        const text = (await terminal.textContent()) ?? '';
        return (
          now.cols < before.cols &&
          now.rows < before.rows &&
          text.includes(`resized to ${now.cols}x${now.rows}`)
        );
      },
      { timeout: 15_000 },
    )
    .toBe(true);

  await terminal.click();
  await page.keyboard.press('Enter');
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(terminal).toContainText('done');
});
