import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createExecutor, type Executor } from '../src/engine/executor.ts';
import type { RunEvent, RunResult } from '../src/engine/run-events.ts';
import { DEFAULT_MAXIMUMS, resolveLimits, type LimitsOverride } from '../src/sandbox/limits.ts';
import type { KernelSnapshot } from '../src/sessions/kernel-messages.ts';
import {
  createSessionKernels,
  type SessionKernels,
  type SessionNotice,
  type SessionSpec,
} from '../src/sessions/session-kernels.ts';
import type { SessionLanguage } from '../src/sessions/session-languages.ts';
import {
  createSandboxHarness,
  isAlive,
  startCanary,
  type SandboxHarness,
} from './support/sandbox-harness.ts';

/**
 * Sessions through the engine and real sandboxes: each cell is a run of kind `cell`, run by its
 * session's kernel (one long-lived sandbox), the snapshots and specs kept here as the API's
 * store keeps them.
 */

const MiB = 1024 * 1024;
let harness: SandboxHarness;
let executor: Executor;
let sessions: SessionKernels;
const specs = new Map<string, SessionSpec>();
const snapshots = new Map<string, KernelSnapshot>();
const notices = new Map<string, SessionNotice[]>();

beforeAll(async () => {
  harness = await createSandboxHarness('sessions');
  sessions = createSessionKernels(harness.host, {
    hooks: {
      spec: (id) => specs.get(id) ?? null,
      snapshot: (id) => snapshots.get(id) ?? null,
      onSnapshot: (id, snapshot) => snapshots.set(id, snapshot),
      onNotice: (id, notice) => notices.set(id, [...(notices.get(id) ?? []), notice]),
    },
  });
  executor = createExecutor({ host: harness.host, sessions, concurrency: 2 });
});
afterEach(async () => {
  for (const id of sessions.running()) await sessions.stop(id);
  // Every kernel ended takes everything its cells started with it.
  expect(harness.sandboxProcesses()).toEqual([]);
});
afterAll(async () => {
  await executor.shutdown({ deadlineMs: 1_000 });
  await sessions.close();
  await harness.close();
});

function openSession(language: SessionLanguage, limits: LimitsOverride = {}): string {
  const id = randomUUID();
  specs.set(id, {
    id,
    language,
    limits: resolveLimits(
      { ...limits, wallTimeMs: 3_600_000 },
      { maximums: { ...DEFAULT_MAXIMUMS, wallTimeMs: 3_600_000 } },
    ),
  });
  return id;
}

interface CellRun {
  id: string;
  result: RunResult;
  stdout: string;
  stderr: string;
}

async function endOf(id: string): Promise<{ events: RunEvent[]; result: RunResult }> {
  const events: RunEvent[] = [];
  for await (const event of executor.events(id)) events.push(event);
  const last = events.at(-1);
  if (last?.type !== 'end') throw new Error(`run ${id} has no end event`);
  return { events, result: last.result };
}

function textOf(events: readonly RunEvent[], stream: 'stdout' | 'stderr'): string {
  return events
    .flatMap((event) =>
      event.type === 'output' && event.stream === stream
        ? [event.text + (event.partial ? '' : '\n')]
        : [],
    )
    .join('');
}

async function submitCell(
  sessionId: string,
  code: string,
  limits: LimitsOverride = {},
): Promise<string> {
  const spec = specs.get(sessionId);
  if (!spec) throw new Error('no such session');
  const record = await executor.submit({
    kind: 'cell',
    sessionId,
    language: spec.language,
    code,
    limits,
  });
  return record.id;
}

async function cell(
  sessionId: string,
  code: string,
  limits: LimitsOverride = {},
): Promise<CellRun> {
  const id = await submitCell(sessionId, code, limits);
  const { events, result } = await endOf(id);
  return { id, result, stdout: textOf(events, 'stdout'), stderr: textOf(events, 'stderr') };
}

async function untilRunning(id: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (executor.get(id).state !== 'running') {
    if (Date.now() > deadline) throw new Error(`cell ${id} never started`);
    await sleep(10);
  }
}

describe('variables persist from cell to cell', () => {
  const programs: Record<SessionLanguage, [string, string, string]> = {
    python: ['x = 41\nprint("one")', 'x += 1\nprint("two")', 'x'],
    javascript: ['let x = 41\nconsole.log("one")', 'x += 1\nconsole.log("two")', 'x'],
    typescript: [
      'let x: number = 41\nconsole.log("one")',
      'x += 1 as number\nconsole.log("two")',
      'x',
    ],
  };
  it.each(Object.keys(programs) as SessionLanguage[])('in %s', async (language) => {
    const session = openSession(language);
    const [first, second, third] = programs[language];
    const one = await cell(session, first);
    expect(one.result.state).toBe('completed');
    expect(one.stdout).toBe('one\n');
    const two = await cell(session, second);
    expect(two.result.state).toBe('completed');
    // Each cell's output is its own: the first cell's line is not in the second's.
    expect(two.stdout).toBe('two\n');
    const three = await cell(session, third);
    expect(three.result).toMatchObject({ state: 'completed', value: 42 });
    expect(snapshots.get(session)?.values).toEqual({ x: 42 });
  });

  it('runs the cells of one session one at a time, in order', async () => {
    const session = openSession('python');
    await cell(session, 'order = []');
    const ids = [];
    let previous: Promise<unknown> = Promise.resolve();
    for (let index = 0; index < 4; index++) {
      const id = await executor.submit(
        {
          kind: 'cell',
          sessionId: session,
          language: 'python',
          code: `import time\ntime.sleep(0.05)\norder.append(${index})`,
        },
        { after: previous },
      );
      ids.push(id.id);
      previous = endOf(id.id);
    }
    await previous;
    const last = await cell(session, 'order');
    expect(last.result.value).toEqual([0, 1, 2, 3]);
  });
});

describe('interrupts', () => {
  it.each(['python', 'javascript'] as const)(
    'a `while True` cell in %s is interrupted and the next cell still sees earlier state',
    async (language) => {
      const session = openSession(language);
      await cell(session, language === 'python' ? 'x = 7' : 'var x = 7');
      const id = await submitCell(
        session,
        language === 'python' ? 'while True:\n    pass' : 'while (true) {}',
      );
      await untilRunning(id);
      await sleep(200);
      executor.cancel(id);
      const { events, result } = await endOf(id);
      expect(result.state).toBe('cancelled');
      expect(textOf(events, 'stderr')).toMatch(/KeyboardInterrupt|interrupted/);
      const next = await cell(session, 'x');
      expect(next.result).toMatchObject({ state: 'completed', value: 7 });
      // The kernel lived on: no restart was needed.
      expect(notices.get(session)?.map((notice) => notice.kind)).toEqual(['started']);
    },
  );

  it('ends a cell past its own time limit timed_out, and the session goes on', async () => {
    const session = openSession('python');
    await cell(session, 'x = 3');
    const slow = await cell(session, 'import time\ntime.sleep(30)', { wallTimeMs: 1_000 });
    expect(slow.result.state).toBe('timed_out');
    expect((await cell(session, 'x')).result.value).toBe(3);
  });

  it('kills a cell that ignores its interrupt after the grace, and restarts from the snapshot', async () => {
    const session = openSession('python');
    await cell(session, 'x = 5\ndef f():\n    pass');
    const stubborn = await cell(
      session,
      'import time\nwhile True:\n    try:\n        time.sleep(10)\n    except KeyboardInterrupt:\n        pass',
      { wallTimeMs: 1_000 },
    );
    expect(stubborn.result.state).toBe('timed_out');
    expect(stubborn.result.warnings.map((warning) => warning.rule)).toContain('kernel-ended');
    const next = await cell(session, 'x');
    expect(next.result).toMatchObject({ state: 'completed', value: 5 });
    const restarted = next.result.warnings.find((warning) => warning.rule === 'restarted');
    expect(restarted?.message).toContain('restored x');
    expect(restarted?.message).toContain('f (function');
  });
});

describe('restart and limits', () => {
  it('a restart clears the state', async () => {
    const session = openSession('python');
    await cell(session, 'x = 1');
    // What the API's restart does: the snapshot goes, then the kernel.
    snapshots.delete(session);
    await sessions.stop(session);
    await sessions.start(session, { restore: true });
    const after = await cell(session, 'x');
    expect(after.result.state).toBe('failed');
    expect(after.stderr).toContain("NameError: name 'x' is not defined");
  });

  it("the session's memory limit ends the cell memory_limit; the next cell has the snapshot", async () => {
    const session = openSession('python', { memoryBytes: 96 * MiB });
    await cell(session, 'x = [1, 2, 3]');
    const hog = await cell(session, 'big = b"x" * (400 * 1024 * 1024)');
    expect(hog.result.state).toBe('memory_limit');
    const next = await cell(session, 'x');
    expect(next.result).toMatchObject({ state: 'completed', value: [1, 2, 3] });
    expect(next.result.warnings.map((warning) => warning.rule)).toContain('restarted');
  });

  it('a cell that leaves a daemon behind leaves nothing after close', async () => {
    const session = openSession('python');
    const code = [
      'import os, time',
      'if os.fork() == 0:',
      '    os.setsid()',
      '    if os.fork() == 0:',
      '        time.sleep(300)',
      '    os._exit(0)',
      'os.system("setsid sleep 300 &")',
      'os.system("nohup sleep 300 >/dev/null 2>&1 &")',
      'time.sleep(0.3)',
      'print("parent done", flush=True)',
    ].join('\n');
    const run = await cell(session, code);
    expect(run.result.state).toBe('completed');
    expect(run.stdout).toBe('parent done\n');
    // The daemons live while the session does…
    expect(harness.sandboxProcesses().length).toBeGreaterThan(1);
    await sessions.stop(session);
    // …and go with it.
    expect(harness.sandboxProcesses()).toEqual([]);
  });
});

describe('the hostile suite as cells', () => {
  it('contains a fork loop within the session process limit, and hurts nothing outside', async () => {
    const canary = startCanary();
    try {
      const session = openSession('python', { maxProcesses: 32 });
      const code = [
        'import os, time',
        'children = 0',
        'try:',
        '    while True:',
        '        if os.fork() == 0:',
        '            time.sleep(60)',
        '            os._exit(0)',
        '        children += 1',
        'except OSError as error:',
        '    print("stopped", error.errno, children < 32)',
      ].join('\n');
      const run = await cell(session, code);
      expect(run.stdout).toBe('stopped 11 True\n');
      const kill = await cell(session, 'import os\nos.system("kill -9 -1")\nprint("alive")');
      expect(isAlive(canary)).toBe(true);
      expect(kill.result.state).not.toBe('error');
    } finally {
      canary.kill('SIGKILL');
    }
  });

  it('cannot write to /, /usr or /etc, and fills /tmp and the workspace only to their sizes', async () => {
    // One file stops at the file size limit (the workspace's size): files of 1 MiB fill it.
    const session = openSession('python', { tmpBytes: 16 * MiB, workspaceBytes: 32 * MiB });
    const code = `
import errno, os
def attempt(paths):
    try:
        for path in paths:
            with open(path, "wb") as f:
                f.write(b"x" * (1024 * 1024))
        return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]
found = [attempt([p]) for p in ["/evil", "/usr/evil", "/etc/evil"]]
found.append(attempt([f"/tmp/fill{i}" for i in range(64)]))
found.append(attempt([f"/workspace/fill{i}" for i in range(64)]))
for name in os.listdir("/workspace"):
    if name.startswith("fill"):
        os.remove("/workspace/" + name)  # room for the result file
found
`;
    const run = await cell(session, code);
    expect(run.result.value).toEqual(['EROFS', 'EROFS', 'EROFS', 'ENOSPC', 'ENOSPC']);
    const shadow = await cell(session, 'import os\nos.path.exists("/etc/shadow")');
    expect(shadow.result.value).toBe(false);
  });
});
