import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface SectionOptions {
  /**
   * The section's signal aborts after this long, and the section counts as failed. The section is
   * still awaited to its end: a body that ignores the signal holds the bench up. @default 300000
   */
  timeoutMs?: number;
}

/** Why a section failed, in one line: the error's name, code when it has one, and message. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const name = typeof code === 'string' ? `${error.name} [${code}]` : error.name;
  return `${name}: ${error.message}`;
}

/**
 * One section of a bench file: runs `body`, and if it throws (or overruns `timeoutMs`), prints the
 * section's name and the error, marks the process as failed (exit code 1) and returns false, so
 * that the file's next sections still run. Clean-up belongs in the body's own finally blocks.
 *
 * A failure is also appended, one line `<file>: <section>`, to the file named by
 * RUNBOX_BENCH_FAILURES when set (scripts/bench.sh prints them together at the end).
 */
export async function section(
  name: string,
  body: (signal: AbortSignal) => Promise<void>,
  options: SectionOptions = {},
): Promise<boolean> {
  const timeoutMs = options.timeoutMs ?? 300_000;
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new Error(`section overran ${timeoutMs} ms`)),
    timeoutMs,
  );
  try {
    await body(controller.signal);
    if (controller.signal.aborted) throw controller.signal.reason;
    return true;
  } catch (error) {
    const overran = controller.signal.aborted && error !== controller.signal.reason;
    const reason = overran
      ? `${describeError(controller.signal.reason)}, then ${describeError(error)}`
      : describeError(error);
    console.error(`SECTION FAILED: ${name}: ${reason}`);
    process.exitCode = 1;
    const file = process.env.RUNBOX_BENCH_FAILURES;
    if (file) {
      try {
        appendFileSync(file, `${basename(process.argv[1] ?? '?')}: ${name}\n`);
      } catch (writeError) {
        console.error(`  (could not record it in ${file}: ${describeError(writeError)})`);
      }
    }
    return false;
  } finally {
    clearTimeout(timer);
  }
}
