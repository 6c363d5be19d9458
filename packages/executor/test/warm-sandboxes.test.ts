import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Language } from '../src/languages/index.ts';
import { RESULT_FILE } from '../src/result/result-path.ts';
import { runSnippet } from '../src/run-path/run-snippet.ts';
import {
  createWarmSandboxes,
  type WarmPoolStats,
  type WarmSandboxes,
} from '../src/run-path/warm-sandboxes.ts';
import { resolveLimits, type LimitsOverride } from '../src/sandbox/limits.ts';
import { createSandboxHarness, type SandboxHarness } from './support/sandbox-harness.ts';

const MiB = 1024 * 1024;
let harness: SandboxHarness;
let pool: WarmSandboxes | null = null;
let counter = 0;

beforeAll(async () => {
  harness = await createSandboxHarness('warm');
});
afterEach(async () => {
  await pool?.close();
  pool = null;
  // Closed, the pool leaves no process of the sandbox uid (waiting sandboxes included).
  expect(harness.sandboxProcesses()).toEqual([]);
});
afterAll(async () => {
  await harness.close();
});

async function statsOf(language: Language): Promise<WarmPoolStats> {
  const stats = (await pool?.stats())?.find((entry) => entry.language === language);
  if (!stats) throw new Error(`no pool for ${language}`);
  return stats;
}

async function waitFor(
  language: Language,
  check: (stats: WarmPoolStats) => boolean,
): Promise<WarmPoolStats> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const stats = await statsOf(language);
    if (check(stats)) return stats;
    if (Date.now() > deadline) throw new Error(`pool never got there: ${JSON.stringify(stats)}`);
    await sleep(5);
  }
}

async function runWarm(
  language: Language,
  code: string,
  options: { limits?: LimitsOverride; stdin?: string; result?: boolean } = {},
) {
  if (!pool) throw new Error('no pool');
  let stdout = '';
  let stderr = '';
  let result: string | null = null;
  const report = await runSnippet(harness.host, {
    runId: `warm-test-${counter++}`,
    language,
    code,
    limits: resolveLimits(options.limits ?? {}),
    stdin: options.stdin,
    source: pool.sourceFor(language),
    onOutput: (stream, chunk) => {
      if (stream === 'stdout') stdout += chunk.toString('utf8');
      else stderr += chunk.toString('utf8');
    },
    inspectWorkspace: async (dir) => {
      const path = join(dir, RESULT_FILE);
      result = existsSync(path) ? await readFile(path, 'utf8') : null;
    },
  });
  return { ...report, stdout, stderr, result: result as string | null };
}

describe('warm sandboxes', () => {
  it('run Python, JavaScript and TypeScript with stdin, arguments and the last value, one run each', async () => {
    pool = createWarmSandboxes(harness.host, {
      sizes: { python: 1, javascript: 1, typescript: 1 },
    });
    for (const language of ['python', 'javascript', 'typescript'] as const)
      await waitFor(language, (stats) => stats.ready === 1);

    const python = await runWarm(
      'python',
      'import sys\nname = input()\nprint("hello", name, sys.argv[0])\n6 * 7\n',
      { stdin: 'ada\n' },
    );
    expect(python.state).toBe('completed');
    expect(python.stdout).toBe('hello ada /workspace/main.py\n');
    expect(python.result).toBe('42');

    const javascript = await runWarm(
      'javascript',
      'const lines = require("fs").readFileSync(0, "utf8").trim();\nconsole.log("js", lines, process.argv[1]);\n[1, 2].length',
      { stdin: 'x y' },
    );
    expect(javascript.state).toBe('completed');
    expect(javascript.stdout).toBe('js x y /workspace/main.js\n');
    expect(javascript.result).toBe('2');

    const typescript = await runWarm(
      'typescript',
      'const n: number = 20;\nconsole.log("ts", n + 1);\nn + 22',
    );
    expect(typescript.state).toBe('completed');
    expect(typescript.stdout).toBe('ts 21\n');
    expect(typescript.result).toBe('42');

    for (const language of ['python', 'javascript', 'typescript'] as const) {
      const stats = await statsOf(language);
      expect(stats.hits).toBe(1);
      expect(stats.misses).toBe(0);
    }
  });

  it('lets nothing of one run reach the next: globals, files, environment, processes', async () => {
    pool = createWarmSandboxes(harness.host, { sizes: { python: 1 } });
    await waitFor('python', (stats) => stats.ready === 1);
    const first = await runWarm(
      'python',
      [
        'import os, subprocess, builtins',
        'builtins.LEFT_BY_FIRST = 1',
        'os.environ["LEFT_BY_FIRST"] = "1"',
        'open("/tmp/left-by-first", "w").write("x")',
        'open("/workspace/left-by-first", "w").write("x")',
        'subprocess.Popen(["sleep", "60"], start_new_session=True)',
        'print("planted")',
      ].join('\n'),
    );
    expect(first.stdout).toBe('planted\n');
    await waitFor('python', (stats) => stats.ready === 1 && stats.made === 2);
    const second = await runWarm(
      'python',
      [
        'import os, builtins',
        'seen = []',
        'if hasattr(builtins, "LEFT_BY_FIRST"): seen.append("global")',
        'if "LEFT_BY_FIRST" in os.environ: seen.append("env")',
        'if os.path.exists("/tmp/left-by-first"): seen.append("tmp")',
        'if os.path.exists("/workspace/left-by-first"): seen.append("workspace")',
        'for pid in os.listdir("/proc"):',
        '    if pid.isdigit():',
        '        try:',
        '            if open(f"/proc/{pid}/comm").read().strip() == "sleep": seen.append("process")',
        '        except OSError: pass',
        'print("seen:", ",".join(seen))',
      ].join('\n'),
    );
    expect(second.state).toBe('completed');
    expect(second.stdout).toBe('seen: \n');
    expect((await statsOf('python')).hits).toBe(2);
  });

  it('applies the run’s memory, process and time limits when it is claimed, not the pool’s', async () => {
    pool = createWarmSandboxes(harness.host, { sizes: { python: 1 } });
    await waitFor('python', (stats) => stats.ready === 1);
    const memory = await runWarm('python', 'held = bytearray(200 * 1024 * 1024)\nprint("held")', {
      limits: { memoryBytes: 64 * MiB },
    });
    expect(memory.state).toBe('memory_limit');

    await waitFor('python', (stats) => stats.ready === 1);
    const processes = await runWarm(
      'python',
      [
        'import subprocess',
        'children = []',
        'try:',
        '    for _ in range(40): children.append(subprocess.Popen(["sleep", "5"]))',
        '    print("all started")',
        'except OSError as error: print("refused", error.errno)',
      ].join('\n'),
      { limits: { maxProcesses: 8 } },
    );
    expect(processes.stdout).toMatch(/^refused/);

    await waitFor('python', (stats) => stats.ready === 1);
    const time = await runWarm('python', 'while True: pass', { limits: { wallTimeMs: 1_000 } });
    expect(time.state).toBe('timed_out');
    expect((await statsOf('python')).hits).toBe(3);
  });

  it('sends a run whose /tmp size a warm sandbox cannot take down the cold path', async () => {
    pool = createWarmSandboxes(harness.host, { sizes: { python: 1 } });
    await waitFor('python', (stats) => stats.ready === 1);
    const run = await runWarm(
      'python',
      'import os\nst = os.statvfs("/tmp")\nprint(st.f_blocks * st.f_frsize // (1024 * 1024))',
      { limits: { tmpBytes: 8 * MiB } },
    );
    expect(run.stdout.trim()).toBe('8');
    const stats = await statsOf('python');
    expect(stats).toMatchObject({ hits: 0, misses: 1, ready: 1 });
  });

  it('replaces a waiting sandbox that dies, and one that waited past its age', async () => {
    pool = createWarmSandboxes(harness.host, { sizes: { python: 1 }, maxAgeMs: 60_000 });
    await waitFor('python', (stats) => stats.ready === 1);
    // Its interpreter killed from outside (the OOM killer, an operator): the sandbox ends.
    const interpreters = harness
      .sandboxProcesses()
      .filter((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'python3');
    expect(interpreters).toHaveLength(1);
    for (const pid of interpreters) process.kill(pid, 'SIGKILL');
    await waitFor('python', (stats) => stats.ready === 1 && stats.made === 2);
    expect((await runWarm('python', 'print("after a death")')).stdout).toBe('after a death\n');
    await pool.close();

    pool = createWarmSandboxes(harness.host, { sizes: { python: 1 }, maxAgeMs: 200 });
    await waitFor('python', (stats) => stats.made >= 3 && stats.ready === 1);
    expect((await runWarm('python', 'print("fresh")')).stdout).toBe('fresh\n');
  });

  it('waits without spending CPU: a waiting runner sleeps, it does not spin', async () => {
    pool = createWarmSandboxes(harness.host, {
      sizes: { python: 1, javascript: 1, typescript: 1 },
    });
    for (const language of ['python', 'javascript', 'typescript'] as const)
      await waitFor(language, (stats) => stats.ready === 1);
    const cpuTicks = (): number =>
      harness.sandboxProcesses().reduce((sum, pid) => {
        try {
          const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
          return sum + Number(fields[11]) + Number(fields[12]);
        } catch {
          return sum;
        }
      }, 0);
    const before = cpuTicks();
    await sleep(1_000);
    // Clock ticks (100 a second): a runner that spun on EAGAIN took all 100 of them.
    expect(cpuTicks() - before).toBeLessThan(20);
  });

  it('reports what the waiting sandboxes hold', async () => {
    pool = createWarmSandboxes(harness.host, { sizes: { python: 2 } });
    const stats = await waitFor('python', (entry) => entry.ready === 2);
    expect(stats.size).toBe(2);
    expect(stats.starting).toBe(0);
    expect(stats.idleMemoryBytes).toBeGreaterThan(MiB);
    expect(stats.refillMsP50).toBeGreaterThan(0);
  });
});
