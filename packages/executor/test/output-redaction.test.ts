import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../src/engine/executor.ts';
import type { RunEvent } from '../src/engine/run-events.ts';
import { createSandboxHarness, type SandboxHarness } from './support/sandbox-harness.ts';

/**
 * Redaction of what a real program prints in pieces: a token written in two halves with a pause
 * longer than the flush deadline between them must never show, not even half of it.
 */

let harness: SandboxHarness;
let executor: Executor;

beforeAll(async () => {
  harness = await createSandboxHarness('redaction');
  executor = createExecutor({ host: harness.host, concurrency: 1 });
});
afterAll(async () => {
  await executor.shutdown({ deadlineMs: 3_000 });
  await harness.close();
});

async function collect(runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of executor.events(runId, { afterSeq: 0 })) events.push(event);
  return events;
}

// The two halves of a GitHub-shaped token; the code below joins them only at run time, so the
// snippet holds no secret for the submit-time scan.
const FIRST_HALF = 'A1b2C3d4E5f6G7h8I9';
const SECOND_HALF = 'j0K1l2M3n4O5p6Q7r8';

describe('redaction across partial flushes, in a real sandbox', () => {
  it('redacts a token printed in two writes 300 ms apart', async () => {
    const code = [
      'import sys, time',
      `sys.stdout.write("token: ghp_" + "${FIRST_HALF}")`,
      'sys.stdout.flush()',
      'time.sleep(0.3)',
      `sys.stdout.write("${SECOND_HALF}" + " done\\n")`,
      'sys.stdout.flush()',
    ].join('\n');
    const run = await executor.submit({ kind: 'snippet', language: 'python', code });
    const events = await collect(run.id);
    const end = events.at(-1);
    expect(end?.type === 'end' ? end.result.state : end?.type).toBe('completed');
    const output = events.flatMap((event) => (event.type === 'output' ? [event] : []));
    expect(output.map((event) => event.text).join('')).toBe('token: [REDACTED:github-token] done');
    // No piece of either half, however short, in any event; the marker is all that shows of it.
    const everything = JSON.stringify(events);
    for (const half of [FIRST_HALF, SECOND_HALF]) {
      for (let start = 0; start + 4 <= half.length; start++) {
        expect(everything).not.toContain(half.slice(start, start + 4));
      }
    }
    expect(everything).not.toContain('ghp_');
  });
});
