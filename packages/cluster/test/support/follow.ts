import type { Executor, RunEvent, RunResult } from '@runbox/executor';

/** TEST SCAFFOLDING: following runs of an engine to their end. */

/** Every event of the run, to its end. */
export async function follow(
  executor: Executor,
  runId: string,
): Promise<{ events: RunEvent[]; result: RunResult }> {
  const events: RunEvent[] = [];
  for await (const event of executor.events(runId)) {
    events.push(event);
    if (event.type === 'end') return { events, result: event.result };
  }
  throw new Error(`run ${runId} gave no end event`);
}

/** Resolves at the run's first line of output. */
export async function firstOutput(executor: Executor, runId: string): Promise<void> {
  for await (const event of executor.events(runId)) if (event.type === 'output') return;
}

/** The lines of output (stdout and stderr, or the one stream named). */
export function outputLines(events: readonly RunEvent[], stream?: 'stdout' | 'stderr'): string[] {
  return events.flatMap((event) =>
    event.type === 'output' && (stream === undefined || event.stream === stream)
      ? [event.text]
      : [],
  );
}

/** Polls `check` every 25 ms until it holds; throws naming `what` after `ms`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
