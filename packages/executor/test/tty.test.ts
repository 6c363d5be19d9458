import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunNotInteractiveError } from '../src/engine/engine-errors.ts';
import { createExecutor } from '../src/engine/executor.ts';
import type { Executor } from '../src/engine/executor-types.ts';
import type { RunResult } from '../src/engine/run-events.ts';
import { createSandboxHost, type SandboxHost } from '../src/sandbox/sandbox-host.ts';
import { processesOfUid } from './support/sandbox-harness.ts';
import { claimTestUid, releaseTestUid } from './support/test-uid.ts';

/**
 * Runs on a pseudo-terminal (`tty`), in the real sandbox: the program sees a terminal of the
 * client's size and its resizes, its prompt is answered by what the client types, Ctrl-C is its
 * interrupt, and stdout and stderr both reach the run's stdout.
 */

const asRoot = process.getuid?.() === 0;
const suffix = randomBytes(3).toString('hex');
const sandboxUid = claimTestUid(64_100, 800);
const stateDir = join(tmpdir(), `runbox-test-tty-${suffix}`);
let host: SandboxHost;
let executor: Executor;

beforeAll(async () => {
  if (!asRoot) return;
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-tty-${suffix}`,
    sandboxUid,
  });
  executor = createExecutor({ host, concurrency: 2, syntaxCheck: false });
});
afterAll(async () => {
  if (!asRoot) return;
  await executor.shutdown({ deadlineMs: 2_000 });
  await host.close();
  await rm(stateDir, { recursive: true, force: true });
  expect(processesOfUid(sandboxUid)).toEqual([]);
  releaseTestUid(sandboxUid);
});

/** Follows a run's stdout; `until(text)` waits for it to show, `end()` for the result. */
function follow(runId: string): {
  until(text: string): Promise<string>;
  end(): Promise<RunResult>;
  output(): string;
} {
  let stdout = '';
  let stderr = '';
  const waiters: { text: string; resolve: (all: string) => void }[] = [];
  const ended = (async () => {
    for await (const event of executor.events(runId)) {
      if (event.type === 'output' && event.stream === 'stdout') {
        stdout += event.text + (event.partial ? '' : '\n');
        for (const waiter of waiters.splice(0))
          if (stdout.includes(waiter.text)) waiter.resolve(stdout);
          else waiters.push(waiter);
      }
      if (event.type === 'output' && event.stream === 'stderr') stderr += event.text;
      if (event.type === 'end') return event.result;
    }
    throw new Error('no end');
  })();
  return {
    until: (text) =>
      stdout.includes(text)
        ? Promise.resolve(stdout)
        : new Promise((resolve) => waiters.push({ text, resolve })),
    end: async () => {
      const result = await ended;
      expect(stderr).toBe('');
      return result;
    },
    output: () => stdout,
  };
}

const PROGRAM = `
import os, shutil, signal, sys
print("tty", os.isatty(0), os.isatty(1), os.isatty(2), os.environ["TERM"])
print("size", *shutil.get_terminal_size())
signal.signal(signal.SIGWINCH, lambda *_: print("resized", *os.get_terminal_size(1), flush=True))
name = input("name? ")
print("hello", name)
print("to stderr", file=sys.stderr)
try:
    input("wait for ctrl-c ")
except KeyboardInterrupt:
    print("interrupted")
`;

describe.runIf(asRoot)('runs on a pseudo-terminal', () => {
  it('see a terminal of the client size, its resizes, typed input, Ctrl-C and one output stream', async () => {
    const run = await executor.submit({
      kind: 'snippet',
      language: 'python',
      code: PROGRAM,
      tty: { cols: 91, rows: 27 },
    });
    const seen = follow(run.id);
    await seen.until('name? ');
    expect(seen.output()).toContain('tty True True True xterm-256color');
    expect(seen.output()).toContain('size 91 27');
    expect(executor.resize(run.id, { cols: 120, rows: 40 })).toBe(true);
    await seen.until('resized 120 40');
    executor.sendInput(run.id, 'Ada\r');
    // The terminal echoes what is typed, as a terminal does.
    await seen.until('hello Ada');
    await seen.until('wait for ctrl-c ');
    executor.sendInput(run.id, '\x03');
    const result = await seen.end();
    expect(result.state).toBe('completed');
    // Typed after the resize's line: the terminal's echo of it, on the prompt's line.
    expect(seen.output()).toMatch(/name\? resized 120 40\r?\nAda\r?\n/);
    expect(seen.output()).toContain('to stderr');
    expect(seen.output()).toContain('interrupted');
  });

  it("ends the program's input when the client closes it", async () => {
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'n=0; while read -r line; do n=$((n+1)); done; echo "lines: $n"',
      tty: { cols: 80, rows: 24 },
    });
    const seen = follow(run.id);
    executor.sendInput(run.id, 'one\rtwo\r');
    executor.closeInput(run.id);
    const result = await seen.end();
    expect(result.state).toBe('completed');
    expect(seen.output()).toContain('lines: 2');
  });

  it('refuses a resize for a run without a terminal', async () => {
    const run = await executor.submit({ kind: 'snippet', language: 'bash', code: 'true' });
    expect(() => executor.resize(run.id, { cols: 80, rows: 24 })).toThrow(RunNotInteractiveError);
    await follow(run.id).end();
  });
});
