import { expect, test, type Locator, type Page } from '@playwright/test';
import { readFile } from 'node:fs/promises';
import { bytesOf, msOf } from './support/figures';
import { runState, startSnippet, typeSnippet } from './support/runbox';

/**
 * The run page's own features: following the log, downloading and copying it, artifacts and the
 * result value, live usage, and the warnings validation attaches to a snippet.
 */

// Tall enough for the whole log box (520 px) to sit inside the window.
test.use({ viewport: { width: 1280, height: 1000 } });

/** Starts a snippet in any language from the home page; returns the run id. */
async function startCode(page: Page, code: string, language: string): Promise<string> {
  await page.goto('/');
  await typeSnippet(page, code, language);
  await page.getByRole('button', { name: /^Run/ }).click();
  await expect(page).toHaveURL(/\/runs\/[\w-]+$/);
  return page.url().split('/').pop()!;
}

interface LogSnapshot {
  /** Lines the counter says have arrived. */
  count: number;
  /** Numbers (gutter) of the first and last rows visible inside the log box. */
  first: number;
  last: number;
  /** Whether every visible row reads `line <its number>`. */
  aligned: boolean;
  scrollTop: number;
  atBottom: boolean;
}

/** What the log box shows, read in one go so the numbers belong to the same frame. */
function logSnapshot(page: Page): Promise<LogSnapshot> {
  return page.getByTestId('log').evaluate((el) => {
    const box = el.getBoundingClientRect();
    const top = box.top + el.clientTop;
    const bottom = top + el.clientHeight;
    const rows = [...el.querySelectorAll<HTMLElement>('.log-line')].filter((row) => {
      const rect = row.getBoundingClientRect();
      return rect.top >= top - 1 && rect.bottom <= bottom + 1;
    });
    const numbers = rows.map((row) => Number(row.querySelector('.log-gutter')?.textContent));
    const aligned = rows.every(
      (row) =>
        row.querySelector('.log-text')?.textContent ===
        `line ${row.querySelector('.log-gutter')?.textContent}`,
    );
    const counter = document.querySelector('[data-testid="line-count"]')?.textContent ?? '';
    return {
      count: Number(counter.replace(/\D/g, '')),
      first: numbers.length ? Math.min(...numbers) : 0,
      last: numbers.length ? Math.max(...numbers) : 0,
      aligned,
      scrollTop: el.scrollTop,
      atBottom: el.scrollHeight - el.scrollTop - el.clientHeight < 2,
    };
  });
}

function followToggle(page: Page): Locator {
  return page.getByRole('button', { name: /^Follow(ing)?$/ });
}

/** Waits until at least `more` lines have arrived after `since`; the run must still be printing. */
async function moreLines(page: Page, since: number, more = 1): Promise<void> {
  await expect
    .poll(async () => (await logSnapshot(page)).count)
    .toBeGreaterThanOrEqual(since + more);
}

/** Following: the newest line that arrived is the last row in view, the rows numbered right. */
async function expectNewestInView(page: Page): Promise<void> {
  const seen = await logSnapshot(page);
  expect(seen.atBottom).toBe(true);
  expect(seen.last).toBe(seen.count);
  expect(seen.aligned).toBe(true);
}

test('the log follows new lines, stops when scrolled up, resumes at the bottom', async ({
  page,
}) => {
  // A numbered line every 20 ms, for at least 12 s.
  const LINES = 600;
  await startSnippet(page, `for i in $(seq 1 ${LINES}); do echo "line $i"; sleep 0.02; done`);
  await expect(runState(page)).toHaveAttribute('data-state', 'running', { timeout: 20_000 });
  const log = page.getByTestId('log');
  const toggle = followToggle(page);
  const expectFollowing = async (on: boolean) => {
    await expect(toggle).toHaveText(on ? 'Following' : 'Follow');
    await expect(toggle).toHaveAttribute('aria-pressed', String(on));
  };
  const scrollUp = async () => {
    const box = (await log.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -600);
    await expectFollowing(false);
    // The wheel scrolls smoothly: wait for the view to come to rest.
    let previous = -1;
    await expect
      .poll(
        async () => {
          const { scrollTop } = await logSnapshot(page);
          const resting = scrollTop === previous;
          previous = scrollTop;
          return resting;
        },
        { intervals: [250] },
      )
      .toBe(true);
    await expect(runState(page)).toHaveAttribute('data-state', 'running');
  };
  await expectFollowing(true);

  // Following: each time it is looked at, the newest line is the last row in view.
  await moreLines(page, 0, 60);
  for (let i = 0; i < 5; i++) {
    await expectNewestInView(page);
    await moreLines(page, (await logSnapshot(page)).count);
  }

  // The user scrolls up with the wheel: following stops, and while lines keep arriving the view
  // stays where the user put it.
  await scrollUp();
  const parked = await logSnapshot(page);
  expect(parked.atBottom).toBe(false);
  expect(parked.last).toBeLessThan(parked.count);
  await moreLines(page, parked.count, 50);
  const later = await logSnapshot(page);
  expect(later.scrollTop).toBe(parked.scrollTop);
  expect([later.first, later.last]).toEqual([parked.first, parked.last]);
  await expectFollowing(false);
  await expect(runState(page)).toHaveAttribute('data-state', 'running');

  // Back to the bottom with End: following again, the newest line in view as lines arrive.
  await log.press('End');
  await expectFollowing(true);
  await moreLines(page, (await logSnapshot(page)).count, 5);
  await expectNewestInView(page);

  // Up, then the wheel all the way down: following again.
  await scrollUp();
  await page.mouse.wheel(0, 100_000);
  await expectFollowing(true);
  await moreLines(page, (await logSnapshot(page)).count, 5);
  await expectNewestInView(page);

  // Up, then the toggle: following again.
  await scrollUp();
  await toggle.click();
  await expectFollowing(true);
  await expectNewestInView(page);
  await moreLines(page, (await logSnapshot(page)).count, 5);
  await expectNewestInView(page);

  // To the end: the last line printed is the last row, in view.
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 40_000 });
  await expect(page.getByTestId('line-count')).toHaveText(`${LINES} lines`);
  await expect(page.locator('.log-line').filter({ hasText: `line ${LINES}` })).toBeInViewport();
  expect(await logSnapshot(page)).toMatchObject({
    count: LINES,
    last: LINES,
    atBottom: true,
    aligned: true,
  });
});

/** The value beside a label of the run's details. */
function detail(page: Page, label: string): Locator {
  return page.locator(`.kv dt:text-is("${label}") + dd`);
}

// Output of both streams, with colour, many more lines than the box shows, and non-ASCII text.
const MIXED_OUTPUT = String.raw`seq 1 150
printf '\033[32mgreen\033[0m and plain\n'
sleep 0.3
echo 'to stderr 1' >&2
echo 'to stderr 2' >&2
sleep 0.3
echo 'héllo ✓ <b>not bold</b>'`;
const MIXED_TEXT = [
  ...Array.from({ length: 150 }, (_, i) => String(i + 1)),
  'green and plain',
  '[stderr] to stderr 1',
  '[stderr] to stderr 2',
  'héllo ✓ <b>not bold</b>',
].join('\n');

test('Download saves run-<id>.log holding every line, stderr marked', async ({ page }) => {
  const id = await startSnippet(page, MIXED_OUTPUT);
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByTestId('line-count')).toHaveText('154 lines');

  const saved = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download', exact: true }).click();
  const download = await saved;
  expect(download.suggestedFilename()).toBe(`run-${id}.log`);
  expect(await readFile(await download.path(), 'utf8')).toBe(MIXED_TEXT);
});

test('Copy puts every line of the log on the clipboard, stderr marked', async ({
  page,
  context,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await startSnippet(page, MIXED_OUTPUT);
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByTestId('line-count')).toHaveText('154 lines');
  await page.evaluate(() => navigator.clipboard.writeText('something else'));

  await page.getByRole('button', { name: 'Copy', exact: true }).click();
  await expect(page.getByRole('button', { name: 'Copied', exact: true })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(MIXED_TEXT);
});

test('a file the run writes is listed with its size and downloads whole; the value shows', async ({
  page,
}) => {
  const body = `report\n${'0123456789'.repeat(300)}\n`;
  await startCode(
    page,
    `from pathlib import Path

body = "report\\n" + "0123456789" * 300 + "\\n"
Path("report.txt").write_text(body)
print("wrote", len(body), "bytes")
{"answer": 42, "items": ["a", "b"]}`,
    'python',
  );
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByTestId('log')).toContainText(`wrote ${body.length} bytes`);

  // 3,008 bytes: 2.9 KiB.
  const artifacts = page.getByRole('region', { name: 'Artifacts' }).getByRole('listitem');
  await expect(artifacts).toHaveCount(1);
  await expect(artifacts).toHaveText('report.txt 2.9 KiB');
  const saved = page.waitForEvent('download');
  await artifacts.getByRole('link', { name: 'report.txt' }).click();
  const download = await saved;
  expect(download.suggestedFilename()).toBe('report.txt');
  expect(await readFile(await download.path(), 'utf8')).toBe(body);

  const value = page.getByRole('region', { name: 'Result value' });
  await expect(value.locator('pre')).toHaveText(
    JSON.stringify({ answer: 42, items: ['a', 'b'] }, null, 2),
  );
});

test('CPU and memory show live while the run works; the end shows exit, duration, peak', async ({
  page,
}) => {
  await startCode(
    page,
    `import time

hold = b"x" * (200 * 1024 * 1024)
print("holding", len(hold) // (1024 * 1024), "MiB", flush=True)
end = time.time() + 6
spins = 0
while time.time() < end:
    spins += 1
print("spun", spins > 0)`,
    'python',
  );
  await expect(runState(page)).toHaveAttribute('data-state', 'running', { timeout: 20_000 });
  await expect(page.getByTestId('log')).toContainText('holding 200 MiB');

  // While it runs: "Memory" (now, of the limit, with a meter) and CPU so far, both rising.
  const memory = detail(page, 'Memory');
  const cpu = detail(page, 'CPU');
  await expect
    .poll(async () => bytesOf(await memory.innerText()))
    .toBeGreaterThanOrEqual(200 * 2 ** 20);
  await expect(memory).toContainText('of 512 MiB');
  await expect(memory.locator('.meter')).toBeVisible();
  await expect.poll(async () => msOf(await cpu.innerText())).toBeGreaterThan(0);
  const cpuBefore = msOf(await cpu.innerText());
  await expect.poll(async () => msOf(await cpu.innerText())).toBeGreaterThan(cpuBefore);
  await expect(runState(page)).toHaveAttribute('data-state', 'running');
  await expect(detail(page, 'Exit code')).toHaveText('—');

  // At the end: exit code, how long it ran, and the peak memory instead of the live figure.
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByTestId('log')).toContainText('spun True');
  await expect(detail(page, 'Exit code')).toHaveText('0');
  expect(msOf(await detail(page, 'Ran for').innerText())).toBeGreaterThanOrEqual(6000);
  await expect(detail(page, 'Memory')).toHaveCount(0);
  const peak = detail(page, 'Peak memory');
  expect(bytesOf(await peak.innerText())).toBeGreaterThanOrEqual(200 * 2 ** 20);
  await expect(peak).toContainText('of 512 MiB');
  await expect(peak.locator('.meter')).toHaveCount(0);
  expect(msOf(await cpu.innerText())).toBeGreaterThanOrEqual(cpuBefore);
});

test('a snippet that validation warns about still runs, and its page shows the warning', async ({
  page,
}) => {
  // eval is a dangerous pattern: by default a warning, not a refusal.
  await startSnippet(page, `greeting='echo warned but ran'\neval "$greeting"`);
  await expect(runState(page)).toHaveAttribute('data-state', 'completed', { timeout: 30_000 });
  await expect(page.getByTestId('log')).toContainText('warned but ran');
  const warnings = page.getByRole('region', { name: 'Warnings' }).getByRole('listitem');
  await expect(warnings).toHaveText([
    'dangerous-pattern (line 2): eval runs a string as shell code — rule bash-eval',
  ]);
});
