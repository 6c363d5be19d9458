import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { listProject } from '../project/project-listings.ts';
import type { RunPhase } from '../run-path/run-in-sandbox.ts';
import type { ReadOnlyMount } from '../sandbox/sandbox-command.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { OutputStream } from '../sandbox/sandbox-run.ts';
import { EnvironmentRefusedError } from './environment-errors.ts';
import {
  evictionOrder,
  readRecord,
  readRecords,
  recordPath,
  writeRecord,
} from './environment-records.ts';
import {
  environmentKey,
  namedPlan,
  planRefusal,
  projectPlan,
  type InstallPlan,
} from './environment-plan.ts';
import { PROJECT_ENVIRONMENT, type EnvironmentSettings } from './environment-settings.ts';
import { installEnvironment } from './install-environment.ts';
import { isAlive } from '../sandbox/process-alive.ts';
import { pathExists } from '../sandbox/path-exists.ts';

const run = promisify(execFile);

/** Where an environment appears inside the sandbox. */
export const SANDBOX_ENV_PYTHON = '/opt/runbox-env/python';
/** Node finds packages in /node_modules from anywhere under /workspace, CommonJS and ESM alike. */
export const SANDBOX_ENV_NODE_MODULES = '/node_modules';

/** What a run asks for: `project` (its project's manifests) or a named environment. */
export interface EnvironmentRequest {
  environment: string;
  /** The project of a tool run; absent for a snippet. */
  projectDir?: string | undefined;
}

/** An environment ready for a run: its binds and the variables that find it. */
export interface ReadyEnvironment {
  key: string;
  label: string;
  mounts: ReadOnlyMount[];
  /** Set on the run's environment; PYTHONPATH and PATH are added to, not replaced. */
  pythonPath: string | null;
  binDirs: string[];
  /** Taken from the cache (true) or installed for this run (false). */
  reused: boolean;
  /** The run is done with it: the store may remove it again to keep within its cap. */
  release(): void;
}

export interface EnvironmentStore {
  readonly settings: EnvironmentSettings;
  /** Refuses what could never be installed (EnvironmentRefusedError); installs nothing. */
  check(request: EnvironmentRequest): Promise<void>;
  /** The environment, from the cache or installed now (its output to onOutput). */
  ensure(
    request: EnvironmentRequest,
    options: {
      runId: string;
      onOutput?: ((stream: OutputStream, chunk: Buffer) => void) | undefined;
      signal?: AbortSignal | undefined;
      onInternalError?: ((error: unknown, phase: RunPhase) => void) | undefined;
    },
  ): Promise<ReadyEnvironment>;
  close(): Promise<void>;
}

/** Bytes of the files under `dir`, no link followed (an environment stored before its record). */
async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await lstat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/** How runs see one stored environment (see layoutOf). */
interface Layout {
  view: string;
  mounts: ReadOnlyMount[];
  pythonPath: string | null;
  binDirs: string[];
}

/** A build directory's name says whose it is, so that a dead process's leftovers can go. */
function buildName(key: string): string {
  return `.build-${key}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** A run's environment variables with an environment's added (PYTHONPATH and PATH extended). */
export function withEnvironment(
  env: Readonly<Record<string, string>>,
  ready: Pick<ReadyEnvironment, 'pythonPath' | 'binDirs'>,
): Record<string, string> {
  const result = { ...env };
  if (ready.pythonPath)
    result['PYTHONPATH'] = result['PYTHONPATH']
      ? `${result['PYTHONPATH']}:${ready.pythonPath}`
      : ready.pythonPath;
  // After the sandbox's own: a package's `python3` or `node` script never replaces the tool's.
  if (ready.binDirs.length > 0)
    result['PATH'] = [result['PATH'] ?? '/usr/bin:/bin', ...ready.binDirs].join(':');
  return result;
}

/**
 * Environments cached by what decides their content (environment-plan.ts environmentKey), in
 * `dir`, shared by every run and project that asks for the same thing. An environment is made
 * once (concurrent runs that need it wait for the one install), under a temporary name, and
 * renamed into place whole: a half-made one is never used. Runs see it read-only. When runbox may
 * mount (a tmpfs for the sandbox's own files), each is shown through a read-only overlay mounted
 * under those files, with relative layer names, so the sandbox's mountinfo names nothing of the
 * host; otherwise it is bound from where it is.
 */
export function createEnvironmentStore(options: {
  host: SandboxHost;
  dir: string;
  settings: EnvironmentSettings;
}): EnvironmentStore {
  const { host, dir, settings } = options;
  const installs = new Map<string, Promise<void>>();
  const inUse = new Map<string, number>();
  let sweptBuilds = false;
  const layouts = new Map<string, Promise<Layout>>();
  let runtimes: Promise<{ python: string; node: string }> | null = null;
  let closed = false;

  const versions = (): Promise<{ python: string; node: string }> => {
    // The sandbox's Python (/usr is what it sees), not whichever python3 the server's PATH finds.
    runtimes ??= run('/usr/bin/python3', ['--version']).then(({ stdout }) => ({
      python: stdout.trim(),
      node: process.version,
    }));
    return runtimes;
  };

  async function planOf(request: EnvironmentRequest): Promise<InstallPlan> {
    let plan: InstallPlan;
    if (request.environment === PROJECT_ENVIRONMENT) {
      if (!request.projectDir)
        throw new EnvironmentRefusedError(
          `environment "${PROJECT_ENVIRONMENT}" needs a project (a snippet has no manifests); pick a named environment instead`,
        );
      const listing = await listProject(request.projectDir);
      plan = await projectPlan(
        request.projectDir,
        listing.files.map((file) => file.path),
      );
    } else {
      const named = settings.named[request.environment];
      if (!named) {
        const names = Object.keys(settings.named);
        throw new EnvironmentRefusedError(
          `unknown environment "${request.environment}": ${names.length > 0 ? `this server has ${names.map((name) => `"${name}"`).join(', ')}, and "${PROJECT_ENVIRONMENT}" for a project's own manifests` : `this server declares none (RUNBOX_ENVIRONMENTS); "${PROJECT_ENVIRONMENT}" installs a project's own manifests`}`,
        );
      }
      plan = namedPlan(request.environment, named);
    }
    const refusal = planRefusal(plan, settings);
    if (refusal) throw new EnvironmentRefusedError(refusal);
    return plan;
  }

  /**
   * How runs see a stored environment: its binds from an overlay of it (or from it as it is) and
   * the variables that find it. A stored environment never changes: made once per key.
   */
  function layoutOf(key: string): Promise<Layout> {
    let layout = layouts.get(key);
    if (!layout) {
      layout = (async () => {
        const view = await viewOf(key);
        const mounts: ReadOnlyMount[] = [];
        const binDirs: string[] = [];
        let pythonPath: string | null = null;
        if (await pathExists(join(view, 'python'))) {
          mounts.push({ source: join(view, 'python'), dest: SANDBOX_ENV_PYTHON });
          pythonPath = SANDBOX_ENV_PYTHON;
          binDirs.push(`${SANDBOX_ENV_PYTHON}/bin`);
        }
        if (await pathExists(join(view, 'node_modules'))) {
          mounts.push({ source: join(view, 'node_modules'), dest: SANDBOX_ENV_NODE_MODULES });
          binDirs.push(`${SANDBOX_ENV_NODE_MODULES}/.bin`);
        }
        return { view, mounts, pythonPath, binDirs };
      })();
      layouts.set(key, layout);
      layout.catch(() => layouts.delete(key));
    }
    return layout;
  }

  /** The directory runs bind from: an overlay of the stored one, or the stored one itself. */
  async function viewOf(key: string): Promise<string> {
    const stored = join(dir, key);
    if (host.files.mechanism !== 'tmpfs') return stored;
    const mountPoint = join(host.files.scratch, 'env', key);
    await mkdir(mountPoint, { recursive: true, mode: 0o755 });
    await mkdir(join(dir, '.empty'), { recursive: true, mode: 0o755 });
    try {
      await run(
        host.tools.mount,
        [
          '-n',
          '-i',
          '-t',
          'overlay',
          '-o',
          `ro,nosuid,nodev,lowerdir=${key}:.empty`,
          'runbox-env',
          mountPoint,
        ],
        { cwd: dir },
      );
      return mountPoint;
    } catch {
      return stored;
    }
  }

  /** Forgets how runs see it, and unmounts its overlay (runs started already keep theirs). */
  async function forgetLayout(key: string): Promise<void> {
    const layout = layouts.get(key);
    layouts.delete(key);
    const view = (await layout?.catch(() => null))?.view;
    if (view?.startsWith(host.files.scratch))
      await run('umount', ['-l', '--', view]).catch(() => {});
  }

  /** Removes what dead processes left half-made in the store (once per store). */
  async function sweepBuilds(): Promise<void> {
    if (sweptBuilds) return;
    sweptBuilds = true;
    for (const name of await readdir(dir)) {
      const pid = /^\.build-[0-9a-f]{32}-(\d+)-/.exec(name)?.[1];
      if (pid !== undefined && !isAlive(Number(pid)))
        await rm(join(dir, name), { recursive: true, force: true });
    }
  }

  async function remove(key: string): Promise<void> {
    await forgetLayout(key);
    await rm(recordPath(dir, key), { force: true });
    await rm(join(dir, key), { recursive: true, force: true });
  }

  /** Keeps the store within its cap: least recently used first, none in use, not `keep`. */
  async function evict(keep: string): Promise<void> {
    const records = await readRecords(dir);
    const busy = new Set([...inUse].filter(([, count]) => count > 0).map(([key]) => key));
    for (const key of evictionOrder(records, { maxBytes: settings.maxBytes, inUse: busy, keep }))
      await remove(key);
  }

  async function install(
    key: string,
    plan: InstallPlan,
    installOptions: Parameters<EnvironmentStore['ensure']>[1],
  ): Promise<void> {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await sweepBuilds();
    const building = join(dir, buildName(key));
    await mkdir(building, { mode: 0o755 });
    try {
      const { bytes } = await installEnvironment({
        host,
        plan,
        settings,
        runId: `${installOptions.runId}-install`,
        destDir: building,
        onOutput: installOptions.onOutput,
        signal: installOptions.signal,
        onInternalError: installOptions.onInternalError,
      });
      try {
        await rename(building, join(dir, key));
      } catch (error) {
        // Made meanwhile by another process on the same directory: theirs is as good.
        if (!(await pathExists(join(dir, key)))) throw error;
      }
      const now = Date.now();
      await writeRecord(dir, { key, label: plan.label, bytes, createdAt: now, lastUsedAt: now });
      await evict(key);
    } finally {
      await rm(building, { recursive: true, force: true });
    }
  }

  /** Notes the use (for the cap's order); writes the record of one stored before records were. */
  async function touch(key: string, label: string): Promise<void> {
    const known = await readRecord(dir, key);
    const now = Date.now();
    await writeRecord(
      dir,
      known
        ? { ...known, lastUsedAt: now }
        : { key, label, bytes: await treeBytes(join(dir, key)), createdAt: now, lastUsedAt: now },
    );
  }

  return {
    settings,
    async check(request) {
      await planOf(request);
    },
    async ensure(request, ensureOptions) {
      if (closed) throw new Error('the environment store is closed');
      const plan = await planOf(request);
      const key = environmentKey(plan, settings, await versions());
      // Held from here: an install for another run never removes it under this one.
      inUse.set(key, (inUse.get(key) ?? 0) + 1);
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        const count = (inUse.get(key) ?? 1) - 1;
        if (count > 0) inUse.set(key, count);
        else inUse.delete(key);
      };
      try {
        let reused = await pathExists(join(dir, key));
        if (!reused) {
          let pending = installs.get(key);
          if (pending) reused = true;
          else {
            pending = install(key, plan, ensureOptions);
            installs.set(key, pending);
            void pending.then(
              () => installs.delete(key),
              () => installs.delete(key),
            );
          }
          await pending;
        } else await touch(key, plan.label);
        const { mounts, pythonPath, binDirs } = await layoutOf(key);
        return { key, label: plan.label, mounts, pythonPath, binDirs, reused, release };
      } catch (error) {
        release();
        throw error;
      }
    },
    async close() {
      closed = true;
      await Promise.allSettled(installs.values());
      for (const key of [...layouts.keys()]) await forgetLayout(key);
    },
  };
}
