import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSandboxHarness,
  SANDBOX_PATHS,
  isAlive,
  leftoversOf,
  startCanary,
  type SandboxHarness,
} from './support/sandbox-harness.ts';

const MiB = 1024 * 1024;
let harness: SandboxHarness;
let canary: ChildProcess;

describe.each(SANDBOX_PATHS)('through %s sandboxes', (path) => {
  beforeAll(async () => {
    harness = await createSandboxHarness('proc', { path });
    canary = startCanary();
  });
  afterAll(async () => {
    expect(isAlive(canary)).toBe(true);
    canary.kill('SIGKILL');
    await harness.close();
  });

  describe('processes that misbehave end their own run and nothing else', () => {
    it('contains a fork bomb within pids.max and kills all of it at the timeout', async () => {
      const run = await harness.run('bash', 'bomb() { bomb | bomb & }; bomb; sleep 30', {
        limits: { wallTimeMs: 2_000, maxProcesses: 64 },
      });
      expect(run.state).toBe('timed_out');
      expect(leftoversOf(harness, run)).toEqual([]);
      expect(isAlive(canary)).toBe(true);
    });

    it('stops a Python memory bomb at the cgroup limit', async () => {
      const run = await harness.run(
        'python',
        'chunks = []\nwhile True:\n    chunks.append(bytearray(8 * 1024 * 1024))\n',
        {
          limits: { memoryBytes: 128 * MiB },
        },
      );
      expect(run.state).toBe('memory_limit');
      expect(run.memoryLimitExceeded).toBe(true);
      expect(run.usage.peakMemoryBytes).toBeGreaterThan(100 * MiB);
      expect(run.usage.peakMemoryBytes).toBeLessThanOrEqual(128 * MiB);
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('stops a Node memory bomb at the cgroup limit', async () => {
      const run = await harness.run(
        'javascript',
        'const held = [];\nfor (;;) held.push(Buffer.alloc(8 * 1024 * 1024, 1));\n',
        {
          limits: { memoryBytes: 160 * MiB },
        },
      );
      expect(run.state).toBe('memory_limit');
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('kills a CPU spin within 250 ms of the limit', async () => {
      const run = await harness.run('python', 'while True:\n    pass\n', {
        limits: { wallTimeMs: 1_000 },
      });
      expect(run.state).toBe('timed_out');
      expect(run.durationMs).toBeGreaterThanOrEqual(1_000);
      expect(run.durationMs).toBeLessThanOrEqual(1_250);
      expect(run.usage.cpuMs).toBeGreaterThan(500);
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('kills a sleep within 250 ms of the limit', async () => {
      const run = await harness.run('bash', 'sleep 30', { limits: { wallTimeMs: 1_000 } });
      expect(run.state).toBe('timed_out');
      expect(run.durationMs).toBeLessThanOrEqual(1_250);
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('kills a process that ignores SIGTERM', async () => {
      const run = await harness.run(
        'bash',
        "trap '' TERM INT HUP\necho ready\nwhile :; do sleep 1; done",
        {
          limits: { wallTimeMs: 1_000 },
        },
      );
      expect(run.state).toBe('timed_out');
      expect(run.stdout).toBe('ready\n');
      expect(run.durationMs).toBeLessThanOrEqual(1_250);
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('leaves no setsid or double-fork daemon behind', async () => {
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
      const run = await harness.run('python', code);
      expect(run.state).toBe('completed');
      expect(run.stdout).toBe('parent done\n');
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('gets no help from kill -STOP 0: the timeout still kills it', async () => {
      const run = await harness.run('bash', 'sleep 30 &\nkill -STOP 0\necho never', {
        limits: { wallTimeMs: 1_000 },
      });
      expect(run.state).toBe('timed_out');
      expect(run.stdout).toBe('');
      expect(run.durationMs).toBeLessThanOrEqual(1_250);
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('hurts nothing outside with kill -9 -1', async () => {
      const run = await harness.run('bash', 'sleep 30 &\nkill -9 -1\necho survived');
      expect(run.state).toBe('completed');
      expect(run.stdout).toBe('survived\n');
      expect(isAlive(canary)).toBe(true);
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('ends 100 MB of output with no newline as output_limit, with host memory bounded', async () => {
      const rssBefore = process.memoryUsage().rss;
      const run = await harness.run(
        'python',
        'import sys\nblock = "x" * 65536\nfor _ in range(1600):\n    sys.stdout.write(block)\nsys.stdout.flush()\nprint("not reached")\n',
        { limits: { outputBytes: 1 * MiB } },
      );
      expect(run.state).toBe('output_limit');
      expect(run.stdout.length).toBe(1 * MiB);
      expect(run.stdout).not.toContain('not reached');
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * MiB);
      expect(leftoversOf(harness, run)).toEqual([]);
    });

    it('passes stdin through and reports a non-zero exit as failed', async () => {
      const run = await harness.run('bash', 'read -r line; echo "got $line"; exit 7', {
        stdin: 'hello\n',
      });
      expect(run.state).toBe('failed');
      expect(run.exitCode).toBe(7);
      expect(run.stdout).toBe('got hello\n');
    });

    it('ends as cancelled when aborted while running', async () => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 300);
      const run = await harness.run('bash', 'echo started; sleep 30', {
        signal: controller.signal,
      });
      expect(run.state).toBe('cancelled');
      expect(run.stdout).toBe('started\n');
      expect(leftoversOf(harness, run)).toEqual([]);
    });
  });
});
