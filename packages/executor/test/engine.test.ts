import { createHash, randomBytes } from 'node:crypto';
import { readArtifactList } from '../src/artifacts/artifact-store.ts';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWarmSandboxes, type WarmSandboxes } from '../src/run-path/warm-sandboxes.ts';
import { createExecutor, type Executor } from '../src/engine/executor.ts';
import {
  QueueFullError,
  ShuttingDownError,
  UnknownToolError,
} from '../src/engine/engine-errors.ts';
import { createToolCatalog } from '../src/tools/tool-catalog.ts';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '../src/engine/run-events.ts';
import { createSandboxHost, type SandboxHost } from '../src/sandbox/sandbox-host.ts';
import { SecretInCodeError, SyntaxCheckError } from '../src/validation/validation-errors.ts';
import { claimTestUid } from './support/test-uid.ts';

let host: SandboxHost;
let stateDir: string;

beforeAll(async () => {
  const suffix = randomBytes(3).toString('hex');
  stateDir = join(tmpdir(), `runbox-test-engine-${suffix}`);
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-engine-${suffix}`,
    sandboxUid: claimTestUid(64_100, 800),
  });
});
afterAll(async () => {
  await host.close();
  await rm(stateDir, { recursive: true, force: true });
});

async function collect(executor: Executor, runId: string, afterSeq = 0): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of executor.events(runId, { afterSeq })) events.push(event);
  return events;
}

const stdoutOf = (events: RunEvent[]) =>
  events.flatMap((e) => (e.type === 'output' && e.stream === 'stdout' ? [e.text] : [])).join('\n');
const endOf = (events: RunEvent[]) => {
  const last = events.at(-1);
  if (last?.type !== 'end') throw new Error(`last event is ${last?.type}`);
  return last.result;
};

describe.each(['cold', 'warm'] as const)(
  'engine: languages and end states (%s sandboxes)',
  (path) => {
    let executor: Executor;
    let warm: WarmSandboxes | null = null;
    beforeAll(() => {
      warm =
        path === 'warm'
          ? createWarmSandboxes(host, { sizes: { python: 2, javascript: 2, typescript: 2 } })
          : null;
      executor = createExecutor({ host, concurrency: 2, warm });
    });
    beforeEach(async () => {
      // Each run finds its language's sandboxes ready (a miss would quietly test the cold path).
      for (let waited = 0; warm && waited < 20_000; waited += 5) {
        const stats = await warm.stats();
        if (stats.every((entry) => entry.ready === entry.size)) break;
        await sleep(5);
      }
    });
    afterAll(async () => {
      if (!warm) return;
      const stats = await warm.stats();
      await warm.close();
      for (const entry of stats) expect(entry.hits, entry.language).toBeGreaterThan(0);
    });

    it.each([
      ['python', 'import sys\nprint("py", sys.stdin.read().strip())'],
      ['javascript', 'process.stdin.on("data", (d) => console.log("js", String(d).trim()))'],
      [
        'typescript',
        'const word: string = "ts";\nprocess.stdin.on("data", (d: Buffer) => console.log(word, String(d).trim()))',
      ],
      ['bash', 'read -r line; echo "sh $line"'],
    ] as const)('runs %s with stdin and completes', async (language, code) => {
      const run = await executor.submit({ kind: 'snippet', language, code, stdin: 'hi\n' });
      const events = await collect(executor, run.id);
      expect(endOf(events).state).toBe('completed');
      expect(stdoutOf(events)).toMatch(/^(py|js|ts|sh) hi$/);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
      expect(
        events.filter((e) => e.type === 'state').map((e) => (e.type === 'state' ? e.state : '')),
      ).toEqual(['queued', 'running', 'completed']);
    });

    it.each([
      ['failed', 'python', 'raise SystemExit(3)', {}],
      ['timed_out', 'bash', 'sleep 10', { wallTimeMs: 1_000 }],
      [
        'memory_limit',
        'python',
        'a = []\nwhile True:\n    a.append(bytearray(4 << 20))',
        { memoryBytes: 64 << 20 },
      ],
      [
        'output_limit',
        'python',
        'import sys\nsys.stdout.write("x" * 3_000_000)',
        { outputBytes: 100_000 },
      ],
    ] as const)('ends as %s with a result that says so', async (state, language, code, limits) => {
      const run = await executor.submit({ kind: 'snippet', language, code, limits });
      const events = await collect(executor, run.id);
      const result = endOf(events);
      expect(result.state).toBe(state);
      expect(executor.get(run.id).state).toBe(state);
      expect(result.queuedAt).toBeLessThanOrEqual(result.startedAt ?? 0);
      expect(result.finishedAt).toBeGreaterThanOrEqual(result.startedAt ?? 0);
      if (state === 'failed') expect(result.exitCode).toBe(3);
      if (state === 'output_limit') {
        const truncated = events.find((e) => e.type === 'truncated');
        expect(truncated).toMatchObject({ reason: 'bytes', limit: 100_000 });
      }
    });

    it('ends a run past the line cap as output_limit with a truncation event', async () => {
      const lines = createExecutor({ host, concurrency: 1, output: { maxLines: 50 } });
      const run = await lines.submit({
        kind: 'snippet',
        language: 'bash',
        code: 'for i in $(seq 1000); do echo $i; done',
      });
      const events = await collect(lines, run.id);
      expect(endOf(events).state).toBe('output_limit');
      expect(events.filter((e) => e.type === 'output')).toHaveLength(50);
      expect(events.find((e) => e.type === 'truncated')).toMatchObject({
        reason: 'lines',
        limit: 50,
      });
    });

    it('redacts a secret the program prints', async () => {
      const run = await executor.submit({
        kind: 'snippet',
        language: 'python',
        // Built from parts so the code itself holds no secret for the submit-time scan.
        code: 'print("token: " + "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8")',
      });
      const out = stdoutOf(await collect(executor, run.id));
      expect(out).not.toContain('A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8');
      expect(out).toContain('[REDACTED:');
    });

    it('shows a line with no newline after the flush deadline, before the run ends', async () => {
      const run = await executor.submit({
        kind: 'snippet',
        language: 'python',
        code: 'import sys, time\nsys.stdout.write("progress 50%")\nsys.stdout.flush()\ntime.sleep(1)\nprint(" done")',
      });
      const seen: { text: string; partial: boolean; running: boolean }[] = [];
      for await (const event of executor.events(run.id)) {
        if (event.type === 'output') {
          seen.push({
            text: event.text,
            partial: event.partial,
            running: executor.get(run.id).state === 'running',
          });
        }
      }
      expect(seen[0]).toEqual({ text: 'progress 50%', partial: true, running: true });
      expect(seen[1]).toMatchObject({ text: ' done', partial: false });
    });

    it('rejects a syntax error before queueing, naming the line', async () => {
      await expect(
        executor.submit({ kind: 'snippet', language: 'python', code: 'x = 1\nif x ==\n' }),
      ).rejects.toSatisfy(
        (error: unknown) => error instanceof SyntaxCheckError && error.line === 2,
      );
      await expect(
        executor.submit({ kind: 'snippet', language: 'bash', code: 'echo ok\nif then fi\n' }),
      ).rejects.toBeInstanceOf(SyntaxCheckError);
    });

    it('rejects code holding a secret, naming the line and kind', async () => {
      const key = ['AKIA', 'ABCDEFGHIJKLMNOP'].join('');
      await expect(
        executor.submit({
          kind: 'snippet',
          language: 'python',
          code: `print(1)\nkey = "${key}"\n`,
        }),
      ).rejects.toSatisfy(
        (error: unknown) => error instanceof SecretInCodeError && error.line === 2,
      );
    });

    it('carries dangerous-pattern warnings into the result', async () => {
      const run = await executor.submit({
        kind: 'snippet',
        language: 'python',
        code: 'import subprocess\nprint(1)',
      });
      const result = endOf(await collect(executor, run.id));
      expect(result.state).toBe('completed');
      expect(result.warnings.some((w) => w.check === 'dangerous-pattern' && w.line === 1)).toBe(
        true,
      );
    });

    it('resumes from a sequence number with no gap and no duplicate', async () => {
      const run = await executor.submit({
        kind: 'snippet',
        language: 'bash',
        code: 'for i in $(seq 30); do echo line$i; done',
      });
      const all = await collect(executor, run.id);
      const tail = await collect(executor, run.id, 7);
      expect(tail).toEqual(all.slice(7));
      expect(tail[0]?.seq).toBe(8);
    });
  },
);

describe('engine: hooks', () => {
  it('calls beforeQueue before the first event, and a throwing onEvent never stalls a run', async () => {
    const order: string[] = [];
    const hookErrors: string[] = [];
    const executor = createExecutor({
      host,
      concurrency: 1,
      hooks: {
        onEvent: (_run, event) => {
          order.push(event.type);
          if (event.type === 'state' && event.state === 'running') throw new Error('store is down');
        },
        onHookError: (error) => hookErrors.push((error as Error).message),
      },
    });
    const run = await executor.submit(
      { kind: 'snippet', language: 'bash', code: 'echo ok' },
      { beforeQueue: () => order.push('beforeQueue') },
    );
    const result = endOf(await collect(executor, run.id));
    expect(result.state).toBe('completed');
    expect(order[0]).toBe('beforeQueue');
    expect(order[1]).toBe('state');
    expect(hookErrors).toEqual(['store is down']);
  });
});

describe('engine: results and artifacts', () => {
  it('hands back the last expression as the value and keeps the files the run wrote', async () => {
    const artifactsRoot = join(stateDir, 'artifacts');
    const executor = createExecutor({ host, concurrency: 1, artifactsRoot });
    const run = await executor.submit({
      kind: 'snippet',
      language: 'python',
      code: 'open("report.txt", "w").write("hello\\n")\nx = 2\nx * 21',
    });
    const result = endOf(await collect(executor, run.id));
    expect(result.state).toBe('completed');
    expect(result.value).toBe(42);
    expect(result.artifacts.map((a) => [a.path, a.size, a.kind])).toEqual([
      ['report.txt', 6, 'file'],
    ]);
    const kept = await readArtifactList(artifactsRoot, run.id);
    expect(kept?.artifacts[0]?.sha256).toBe(createHash('sha256').update('hello\n').digest('hex'));
  });

  it('has no value when the last statement is not an expression', async () => {
    const executor = createExecutor({ host, concurrency: 1 });
    const run = await executor.submit({
      kind: 'snippet',
      language: 'javascript',
      code: 'const a = [1, 2].map((n) => n * 2);\nconsole.log(a)',
    });
    const result = endOf(await collect(executor, run.id));
    expect(result.state).toBe('completed');
    expect('value' in result).toBe(false);
  });
});

describe('engine: tools on projects', () => {
  it('runs an example project with its tool, from a copy, and refuses unknown tools', async () => {
    const tools = await createToolCatalog(host);
    expect(tools.list().filter((entry) => !entry.available)).toEqual([]);
    const executor = createExecutor({ host, concurrency: 1, tools });
    const projectDir = fileURLToPath(new URL('../../../examples/hello-python', import.meta.url));
    const run = await executor.submit({ kind: 'tool', toolId: 'python', projectDir });
    const events = await collect(executor, run.id);
    expect(endOf(events).state).toBe('completed');
    expect(stdoutOf(events)).toContain('Hello');
    await expect(
      executor.submit({ kind: 'tool', toolId: 'no-such-tool', projectDir }),
    ).rejects.toBeInstanceOf(UnknownToolError);
  });
});

describe('engine: the queue', () => {
  it('gives waiting runs positions 4, 3, 2, 1 counting down, then runs them', async () => {
    const executor = createExecutor({ host, concurrency: 1 });
    // The first run holds the only slot until every run is queued, however slow the submits.
    const blocker = await executor.submit({ kind: 'snippet', language: 'bash', code: 'sleep 30' });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(
        (await executor.submit({ kind: 'snippet', language: 'bash', code: 'sleep 0.3; echo done' }))
          .id,
      );
    }
    const last = ids[3] ?? '';
    const events: RunEvent[] = [];
    for await (const event of executor.events(last)) {
      events.push(event);
      // Its first place announced: now let the queue move.
      if (event.type === 'position' && event.position === 4) executor.cancel(blocker.id);
    }
    const positions = events.flatMap((e) => (e.type === 'position' ? [e.position] : []));
    expect(positions).toEqual([4, 3, 2, 1]);
    const first = events.find((e) => e.type === 'position');
    expect(first).toMatchObject({ running: 1, concurrency: 1 });
    expect(endOf(events).state).toBe('completed');
    const states = events.flatMap((e) => (e.type === 'state' ? [e.state] : []));
    expect(states).toEqual(['queued', 'running', 'completed']);
  });

  it('cancels a queued run at once and a running run promptly', async () => {
    const executor = createExecutor({ host, concurrency: 1 });
    const running = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo started; sleep 20',
    });
    const queued = await executor.submit({ kind: 'snippet', language: 'bash', code: 'echo never' });
    expect(executor.queue().waiting.map((w) => w.id)).toEqual([queued.id]);
    executor.cancel(queued.id);
    expect(executor.get(queued.id).state).toBe('cancelled');
    expect(executor.queue().waiting).toEqual([]);
    const queuedEvents = await collect(executor, queued.id);
    expect(endOf(queuedEvents)).toMatchObject({ state: 'cancelled', startedAt: null });
    expect(stdoutOf(queuedEvents)).toBe('');

    for await (const event of executor.events(running.id)) {
      if (event.type === 'output') break;
    }
    executor.cancel(running.id);
    const result = endOf(await collect(executor, running.id));
    expect(result.state).toBe('cancelled');
    expect(result.durationMs).toBeLessThan(5_000);
  });

  it('refuses a submit when the queue is full, saying how long it is', async () => {
    const executor = createExecutor({ host, concurrency: 1, maxQueueLength: 2 });
    executor.pause();
    await executor.submit({ kind: 'snippet', language: 'bash', code: 'true' });
    await executor.submit({ kind: 'snippet', language: 'bash', code: 'true' });
    const error = await executor
      .submit({ kind: 'snippet', language: 'bash', code: 'true' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as Error).message).toBe('the queue is full: 2 runs are waiting (at most 2)');
    for (const waiting of executor.queue().waiting) executor.cancel(waiting.id);
  });

  it('pauses, resumes and changes concurrency', async () => {
    const executor = createExecutor({ host, concurrency: 1 });
    executor.pause();
    const a = await executor.submit({ kind: 'snippet', language: 'bash', code: 'sleep 0.5' });
    const b = await executor.submit({ kind: 'snippet', language: 'bash', code: 'sleep 0.5' });
    expect(executor.queue()).toMatchObject({ paused: true, running: [], concurrency: 1 });
    executor.setConcurrency(2);
    executor.resume();
    await new Promise((r) => setTimeout(r, 200));
    expect(
      executor
        .queue()
        .running.map((r) => r.id)
        .sort(),
    ).toEqual([a.id, b.id].sort());
    await collect(executor, a.id);
    await collect(executor, b.id);
    expect(() => executor.setConcurrency(0)).toThrow(/from 1 to 256/);
  });

  it('shuts down: takes no new runs, lets short runs finish, interrupts the rest at the deadline', async () => {
    const executor = createExecutor({ host, concurrency: 2 });
    const short = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      // Long enough that the third run is queued behind both, however slow the submits are.
      code: 'sleep 1; echo short',
    });
    const long = await executor.submit({ kind: 'snippet', language: 'bash', code: 'sleep 30' });
    const waiting = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo later',
    });
    await new Promise((r) => setTimeout(r, 100));
    const outcome = await executor.shutdown({ deadlineMs: 3_000 });
    expect(outcome).toEqual({ interrupted: [long.id], leftQueued: [waiting.id] });
    expect(executor.get(short.id).state).toBe('completed');
    expect(executor.get(long.id).state).toBe('interrupted');
    expect(executor.get(waiting.id).state).toBe('queued');
    await expect(
      executor.submit({ kind: 'snippet', language: 'bash', code: 'true' }),
    ).rejects.toBeInstanceOf(ShuttingDownError);
  });
});
