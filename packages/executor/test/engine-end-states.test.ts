import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventsUnavailableError } from '../src/engine/engine-errors.ts';
import { createExecutor, type Executor } from '../src/engine/executor.ts';
import type { RunEvent, RunResult } from '../src/engine/run-events.ts';
import type { RunPhase } from '../src/run-path/run-in-sandbox.ts';
import { createSandboxHost, type SandboxHost } from '../src/sandbox/sandbox-host.ts';
import { ProjectTooLargeError } from '../src/tools/copy-project.ts';
import { ToolNotApplicableError } from '../src/tools/tool-applies.ts';
import { ToolArgvError } from '../src/tools/tool-argv.ts';
import { createToolCatalog, type ToolCatalog } from '../src/tools/tool-catalog.ts';
import { processesOfUid } from './support/sandbox-harness.ts';
import { claimTestUid } from './support/test-uid.ts';

/**
 * Honest end states through the engine: what is the user's fault is refused at submit or ends
 * `failed` with the reason; `error` is runbox's own fault; no message names a host path; the run
 * path leaves nothing behind whatever a subscriber does.
 */

const MiB = 1024 * 1024;
const suffix = randomBytes(3).toString('hex');
const sandboxUid = claimTestUid(64_100, 800);
const stateDir = join(tmpdir(), `runbox-test-endstates-${suffix}`);
let host: SandboxHost;
let tools: ToolCatalog;
let projects: string;

beforeAll(async () => {
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-endstates-${suffix}`,
    sandboxUid,
  });
  tools = await createToolCatalog(host);
  projects = await mkdtemp(join(tmpdir(), 'runbox-endstates-projects-'));
});
afterAll(async () => {
  await host?.close();
  await rm(stateDir, { recursive: true, force: true });
  await rm(projects, { recursive: true, force: true });
});

async function collect(executor: Executor, runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of executor.events(runId)) events.push(event);
  return events;
}

function endOf(events: RunEvent[]): RunResult {
  const last = events.at(-1);
  if (last?.type !== 'end') throw new Error(`last event is ${last?.type}`);
  return last.result;
}

/** Everything a user sees of a run, as one text. */
function userVisibleText(events: RunEvent[]): string {
  return JSON.stringify(events);
}

function leftCgroups(): string[] {
  const group = `/sys/fs/cgroup/memory/runbox-test-endstates-${suffix}`;
  if (!existsSync(group)) return [];
  return readFileSync(`${group}/cgroup.procs`, 'utf8').trim() === ''
    ? []
    : [`processes in ${group}`];
}

describe('what is the user fault is refused at submit, with the rule', () => {
  it('refuses a tool run whose project lacks the entry file', async () => {
    const dir = join(projects, 'no-entry');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'other.py'), 'print(1)\n');
    const executor = createExecutor({ host, concurrency: 1, tools });
    await expect(
      executor.submit({ kind: 'tool', toolId: 'python', projectDir: dir, entry: 'main.py' }),
    ).rejects.toBeInstanceOf(ToolArgvError);
    // No entry asked and none of the tool's candidates present: the tool does not apply.
    await expect(
      executor.submit({ kind: 'tool', toolId: 'python', projectDir: dir }),
    ).rejects.toBeInstanceOf(ToolNotApplicableError);
    expect(executor.queue().waiting).toEqual([]);
  });

  it('refuses a tool that does not apply to the project', async () => {
    const dir = join(projects, 'python-only');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'main.py'), 'print(1)\n');
    const executor = createExecutor({ host, concurrency: 1, tools });
    await expect(
      executor.submit({ kind: 'tool', toolId: 'shellcheck', projectDir: dir }),
    ).rejects.toBeInstanceOf(ToolNotApplicableError);
  });

  it('refuses a project too big for its workspace', async () => {
    const dir = join(projects, 'too-big');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'main.py'), 'print(1)\n');
    await writeFile(join(dir, 'data.bin'), Buffer.alloc(3 * MiB));
    const executor = createExecutor({ host, concurrency: 1, tools });
    const refusal = executor.submit({
      kind: 'tool',
      toolId: 'python',
      projectDir: dir,
      limits: { workspaceBytes: 2 * MiB },
    });
    await expect(refusal).rejects.toBeInstanceOf(ProjectTooLargeError);
    await expect(refusal).rejects.toThrow(/which holds 2097152/);
  });

  it('ends a run `failed` with the reason when the project outgrew its workspace after submit', async () => {
    const dir = join(projects, 'grows');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'main.py'), 'print(1)\n');
    const executor = createExecutor({ host, concurrency: 1, tools });
    executor.pause();
    const run = await executor.submit({
      kind: 'tool',
      toolId: 'python',
      projectDir: dir,
      limits: { workspaceBytes: 2 * MiB },
    });
    await writeFile(join(dir, 'data.bin'), Buffer.alloc(3 * MiB));
    executor.resume();
    const events = await collect(executor, run.id);
    const result = endOf(events);
    expect(result.state).toBe('failed');
    expect(result.error).toMatch(/the project is too large/);
    expect(result.startedAt).not.toBeNull();
    expect(userVisibleText(events)).not.toContain(stateDir);
  });
});

describe('what a run leaves in its workspace never ends it `error`', () => {
  it('keeps a run with a tree deeper than PATH_MAX `completed`, reporting what it passed over', async () => {
    const artifactsRoot = join(stateDir, 'artifacts');
    const internal: string[] = [];
    const executor = createExecutor({
      host,
      concurrency: 1,
      artifactsRoot,
      hooks: { onInternalError: (error) => internal.push(String(error)) },
    });
    const run = await executor.submit({
      kind: 'snippet',
      language: 'python',
      code: [
        'import os',
        "name = 'd' * 200",
        'for _ in range(40):',
        '    os.mkdir(name)',
        '    os.chdir(name)',
        "open('deep.txt', 'w').write('deep')",
        "os.chdir('/workspace')",
        "open('top.txt', 'w').write('top')",
      ].join('\n'),
      limits: { workspaceBytes: 64 * MiB },
    });
    const events = await collect(executor, run.id);
    const result = endOf(events);
    expect(internal).toEqual([]);
    expect(result.state).toBe('completed');
    expect(result.error).toBeNull();
    expect(result.artifacts.map((artifact) => artifact.path)).toContain('top.txt');
    expect(result.warnings.some((warning) => warning.rule === 'too_deep')).toBe(true);
    const text = userVisibleText(events);
    expect(text).not.toContain(stateDir);
    expect(text).not.toContain(process.cwd());
    expect(processesOfUid(sandboxUid)).toEqual([]);
  });

  it('keeps the end state when runbox fails to keep the files, and says it was its own fault', async () => {
    // Artifacts cannot be kept under a regular file: a fault of runbox's set-up, not the run's.
    const notADirectory = join(stateDir, 'not-a-directory');
    await writeFile(notADirectory, 'x');
    const internal: RunPhase[] = [];
    const executor = createExecutor({
      host,
      concurrency: 1,
      artifactsRoot: notADirectory,
      hooks: { onInternalError: (_error, _run, phase) => internal.push(phase) },
    });
    const run = await executor.submit({
      kind: 'snippet',
      language: 'bash',
      code: 'echo kept > out.txt; echo done',
    });
    const events = await collect(executor, run.id);
    const result = endOf(events);
    expect(result.state).toBe('completed');
    expect(internal).toEqual(['inspect']);
    expect(result.warnings.map((warning) => warning.rule)).toContain('internal');
    expect(userVisibleText(events)).not.toContain(stateDir);
  });
});

describe('a subscriber that falls behind the in-memory log', () => {
  it('gets a clear error naming where to resume when no store backs the log, and the run still ends clean', async () => {
    const executor = createExecutor({ host, concurrency: 1, logMaxEvents: 200 });
    const run = await executor.submit({
      kind: 'snippet',
      language: 'python',
      code: 'for i in range(5000): print(i)',
    });
    // Wait for the end without reading, so the log drops the start.
    const ended = executor.events(run.id, { afterSeq: Number.MAX_SAFE_INTEGER - 1 });
    for await (const _event of ended) {
      // nothing after that seq until the end
    }
    let failure: unknown = null;
    try {
      for await (const _event of executor.events(run.id)) {
        // the first page is already gone
      }
    } catch (error) {
      failure = error;
    }
    expect(failure).toBeInstanceOf(EventsUnavailableError);
    const oldest = (failure as EventsUnavailableError).oldestKept;
    expect(oldest).toBeGreaterThan(1);
    // Resuming from what the error names gets the rest, to the end.
    const rest: RunEvent[] = [];
    for await (const event of executor.events(run.id, { afterSeq: oldest - 1 })) rest.push(event);
    expect(rest[0]?.seq).toBe(oldest);
    expect(endOf(rest).state).toBe('completed');
    expect(processesOfUid(sandboxUid)).toEqual([]);
    expect(leftCgroups()).toEqual([]);
  });
});

describe('queue changes are published', () => {
  it('tells listeners when a run is queued, starts and ends', async () => {
    const executor = createExecutor({ host, concurrency: 1 });
    let calls = 0;
    const off = executor.onQueueChange(() => calls++);
    const run = await executor.submit({ kind: 'snippet', language: 'bash', code: 'echo hi' });
    await collect(executor, run.id);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBeGreaterThanOrEqual(2);
    off();
    const before = calls;
    const second = await executor.submit({ kind: 'snippet', language: 'bash', code: 'echo hi' });
    await collect(executor, second.id);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(before);
  });
});
