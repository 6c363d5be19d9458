import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExecutor } from '../../src/engine/executor.ts';
import type { Executor } from '../../src/engine/executor-types.ts';
import type { RunResult } from '../../src/engine/run-events.ts';
import type { RunRequest } from '../../src/engine/run-request.ts';
import {
  NO_ENVIRONMENTS,
  type EnvironmentSettings,
} from '../../src/environments/environment-settings.ts';
import {
  createEnvironmentStore,
  type EnvironmentStore,
} from '../../src/environments/environment-store.ts';
import { forgetProjectListings } from '../../src/project/project-listings.ts';
import { createSandboxHost, type SandboxHost } from '../../src/sandbox/sandbox-host.ts';
import { createToolCatalog, type ToolCatalog } from '../../src/tools/tool-catalog.ts';
import { processesOfUid } from './sandbox-harness.ts';
import { claimTestUid, releaseTestUid } from './test-uid.ts';

/** A run's end: its result, and its stdout and stderr as printed (each full line ends in \n). */
export interface Ended {
  result: RunResult;
  stdout: string;
  stderr: string;
}

/** Submits `request` and follows it to its end. */
export async function runToEnd(executor: Executor, request: RunRequest): Promise<Ended> {
  const run = await executor.submit(request);
  let stdout = '';
  let stderr = '';
  for await (const event of executor.events(run.id)) {
    if (event.type === 'output') {
      const text = event.text + (event.partial ? '' : '\n');
      if (event.stream === 'stdout') stdout += text;
      else stderr += text;
    }
    if (event.type === 'end') return { result: event.result, stdout, stderr };
  }
  throw new Error('no end');
}

/** A tool run of `projectDir` in its own manifests' environment. */
export function projectRun(toolId: string, projectDir: string, args?: string[]): RunRequest {
  return {
    kind: 'tool',
    toolId,
    projectDir,
    environment: 'project',
    ...(args ? { args } : {}),
  };
}

/** The environments a store directory holds (not their records, not half-made builds). */
export async function storedKeys(storeDir: string): Promise<string[]> {
  return (await readdir(storeDir)).filter((name) => /^[0-9a-f]{32}$/.test(name));
}

/**
 * A real sandbox host with an environment store and an executor that uses it, for one test
 * file: its own state directory, v1 group name and sandbox uid, and a folder for its projects.
 */
export interface EnvironmentHarness {
  host: SandboxHost;
  stateDir: string;
  /** The store's directory, under stateDir. */
  storeDir: string;
  store: EnvironmentStore;
  tools: ToolCatalog;
  executor: Executor;
  /** A new project folder named `name` holding `files`. */
  project(name: string, files: Record<string, string>): Promise<string>;
  /** runToEnd on the harness's executor. */
  runToEnd(request: RunRequest): Promise<Ended>;
  /** Closes and removes it all; the sandbox uid's processes still alive once its host closed. */
  close(): Promise<number[]>;
}

export async function startEnvironmentHarness(
  name: string,
  options: { settings: Partial<EnvironmentSettings>; concurrency: number },
): Promise<EnvironmentHarness> {
  const suffix = randomBytes(3).toString('hex');
  const sandboxUid = claimTestUid(64_100, 800);
  const stateDir = join(tmpdir(), `runbox-test-${name}-${suffix}`);
  const host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-${name}-${suffix}`,
    sandboxUid,
  });
  const projects = await mkdtemp(join(tmpdir(), `runbox-${name}-projects-`));
  const storeDir = join(stateDir, 'environments-store');
  const store = createEnvironmentStore({
    host,
    dir: storeDir,
    settings: { ...NO_ENVIRONMENTS, ...options.settings },
  });
  const tools = await createToolCatalog(host, { probe: false });
  const executor = createExecutor({
    host,
    concurrency: options.concurrency,
    tools,
    syntaxCheck: false,
    environments: store,
  });
  return {
    host,
    stateDir,
    storeDir,
    store,
    tools,
    executor,
    async project(projectName, files) {
      const dir = join(projects, projectName);
      await mkdir(dir, { recursive: true });
      for (const [file, content] of Object.entries(files))
        await writeFile(join(dir, file), content);
      return dir;
    },
    runToEnd: (request) => runToEnd(executor, request),
    async close() {
      await executor.shutdown({ deadlineMs: 2_000 });
      await store.close();
      await host.close();
      await rm(stateDir, { recursive: true, force: true });
      await rm(projects, { recursive: true, force: true });
      forgetProjectListings();
      const left = processesOfUid(sandboxUid);
      releaseTestUid(sandboxUid);
      return left;
    },
  };
}
