import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LANGUAGE_RUNTIMES, type Language } from '../../src/languages/index.ts';
import { DEFAULT_LIMITS, resolveLimits, type LimitsOverride } from '../../src/sandbox/limits.ts';
import {
  runSnippet,
  type SnippetRunOptions,
  type SnippetRunReport,
} from '../../src/run-path/run-snippet.ts';
import { createWarmSandboxes } from '../../src/run-path/warm-sandboxes.ts';
import { createSandboxHost, type SandboxHost } from '../../src/sandbox/sandbox-host.ts';
import { claimTestUid, releaseTestUid } from './test-uid.ts';

export interface HarnessRun extends SnippetRunReport {
  stdout: string;
  stderr: string;
}

/**
 * A real sandbox host for one test file: its own state directory, its own v1 group name and its
 * own sandbox uid, so that files running in parallel cannot see or clean up each other's runs,
 * and "no process of this uid is left" is a precise check.
 */
export interface SandboxHarness {
  host: SandboxHost;
  sandboxUid: number;
  run(
    language: Language,
    code: string,
    options?: {
      limits?: LimitsOverride;
      stdin?: string;
      signal?: AbortSignal;
      inspectWorkspace?: (dir: string) => Promise<void>;
    },
  ): Promise<HarnessRun>;
  /** Host pids whose real uid is the sandbox uid. */
  sandboxProcesses(): number[];
  close(): Promise<void>;
}

/** The two ways a run gets its sandbox; the hostile suites run over both. */
export const SANDBOX_PATHS = ['cold', 'warm'] as const;
export type SandboxPath = (typeof SANDBOX_PATHS)[number];

/**
 * A run of a language with a warm runner, through a warm sandbox: a pool made for it (the engine's
 * default limits, but the run's /tmp, workspace and open-file sizes, which a started sandbox
 * cannot change), waited on until ready, claimed, closed after the run. It fails unless the run
 * really took the warm one. Bash has no warm runner and runs cold.
 */
async function runThroughWarmSandbox(
  host: SandboxHost,
  options: SnippetRunOptions,
): Promise<SnippetRunReport> {
  if (!LANGUAGE_RUNTIMES[options.language].warm) return runSnippet(host, options);
  const pool = createWarmSandboxes(host, {
    sizes: { [options.language]: 1 },
    limits: {
      ...DEFAULT_LIMITS,
      tmpBytes: options.limits.tmpBytes,
      workspaceBytes: options.limits.workspaceBytes,
      openFiles: options.limits.openFiles,
    },
  });
  try {
    const deadline = Date.now() + 20_000;
    while ((await pool.stats())[0]?.ready !== 1) {
      if (Date.now() > deadline) throw new Error('no warm sandbox got ready in 20 s');
      await sleep(5);
    }
    const report = await runSnippet(host, { ...options, source: pool.sourceFor(options.language) });
    const hits = (await pool.stats())[0]?.hits;
    if (hits !== 1) throw new Error(`the run did not take the warm sandbox (hits ${hits})`);
    return report;
  } finally {
    await pool.close();
  }
}

export async function createSandboxHarness(
  name: string,
  options: {
    workspaceTmpfs?: boolean;
    onWorkspaceReleaseError?: (error: unknown) => void;
    /** @default 'cold' */
    path?: SandboxPath;
  } = {},
): Promise<SandboxHarness> {
  const suffix = randomBytes(3).toString('hex');
  const sandboxUid = claimTestUid(64_100, 800);
  const stateDir = join(tmpdir(), `runbox-test-${name}-${suffix}`);
  const host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-${name}-${suffix}`,
    sandboxUid,
    workspaceTmpfs: options.workspaceTmpfs,
    onWorkspaceReleaseError: options.onWorkspaceReleaseError,
  });
  let counter = 0;
  return {
    host,
    sandboxUid,
    async run(language, code, runOptions = {}) {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      const runThrough = options.path === 'warm' ? runThroughWarmSandbox : runSnippet;
      const report = await runThrough(host, {
        runId: `${name}-${suffix}-${counter++}`,
        language,
        code,
        limits: resolveLimits(runOptions.limits ?? {}),
        stdin: runOptions.stdin,
        signal: runOptions.signal,
        inspectWorkspace: runOptions.inspectWorkspace,
        onOutput: (stream, chunk) => (stream === 'stdout' ? stdout : stderr).push(chunk),
      });
      return {
        ...report,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      };
    },
    sandboxProcesses: () => processesOfUid(sandboxUid),
    async close() {
      await host.close();
      await rm(stateDir, { recursive: true, force: true });
      releaseTestUid(sandboxUid);
    },
  };
}

export function processesOfUid(uid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      const uidLine = status.split('\n').find((line) => line.startsWith('Uid:'));
      if (uidLine?.split(/\s+/)[1] === String(uid)) pids.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return pids;
}

/** The checks every hostile test ends with: nothing of the run is left on the host. */
export function leftoversOf(harness: SandboxHarness, run: HarnessRun): string[] {
  const problems: string[] = [];
  for (const path of run.cgroupPaths)
    if (existsSync(path)) problems.push(`cgroup ${path} still exists`);
  // Each run's workspace is a directory made for it alone, removed when the run ends.
  if (existsSync(run.workspaceDir)) problems.push(`workspace ${run.workspaceDir} still exists`);
  const pids = harness.sandboxProcesses();
  if (pids.length > 0) problems.push(`sandbox processes left: ${pids.join(', ')}`);
  return problems;
}

/** A host process that a sandbox escape would hurt; it must outlive every test. */
export function startCanary(): ChildProcess {
  return spawn('sleep', ['600'], { stdio: 'ignore' });
}

export function isAlive(child: ChildProcess): boolean {
  return (
    child.exitCode === null &&
    child.signalCode === null &&
    child.pid !== undefined &&
    existsSync(`/proc/${child.pid}`)
  );
}
