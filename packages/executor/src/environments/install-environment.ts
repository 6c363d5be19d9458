import { randomBytes } from 'node:crypto';
import { chmod, chown, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SANDBOX_RUNTIME_DIR } from '../result/runtime-mount.ts';
import { runInSandbox, type RunPhase } from '../run-path/run-in-sandbox.ts';
import { DEFAULT_LIMITS, type SandboxLimits } from '../sandbox/limits.ts';
import { writeNewWorkspaceFile } from '../sandbox/safe-fs.ts';
import { SANDBOX_WORKSPACE } from '../sandbox/sandbox-command.ts';
import { baseSandboxEnv, SANDBOX_RUNTIME_BIN } from '../sandbox/sandbox-environment.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import type { OutputStream } from '../sandbox/sandbox-run.ts';
import { SANDBOX_TOOLS_DIR } from '../tools/sandbox-tools.ts';
import { copyProject } from '../tools/copy-project.ts';
import { allowedOriginOf, parseEgressHosts, type AllowedOrigin } from './egress-allowlist.ts';
import { startEgressProxy, type EgressLogEntry } from './egress-proxy.ts';
import { InstallFailedError } from './environment-errors.ts';
import { MANIFEST_DIR, type InstallPlan } from './environment-plan.ts';
import type { EnvironmentSettings } from './environment-settings.ts';
import { installFailureMessage } from './install-failure.ts';

const MiB = 1024 * 1024;

/**
 * An install's own limits, whatever the run's: pip and npm need more memory, processes and time
 * than a test run, and what they install must fit the workspace it is made in (1 GiB).
 */
export function installLimits(
  settings: Pick<EnvironmentSettings, 'installWallTimeMs'>,
): SandboxLimits {
  return {
    ...DEFAULT_LIMITS,
    wallTimeMs: settings.installWallTimeMs,
    memoryBytes: 2048 * MiB,
    maxProcesses: 256,
    cpus: DEFAULT_LIMITS.cpus,
    tmpBytes: 1024 * MiB,
    workspaceBytes: 1024 * MiB,
    openFiles: 4096,
    outputBytes: 8 * MiB,
  };
}

/** Where the egress socket's directory is bound in the installer's sandbox. */
export const SANDBOX_EGRESS_DIR = '/run/runbox-egress';
const EGRESS_SOCKET = 'p.sock';
/** Refused targets an install's failure names at most. */
const MAX_REFUSALS_KEPT = 20;
/** An environment holds at most this many files and directories (node_modules are many). */
const MAX_ENVIRONMENT_ENTRIES = 200_000;

/** The origins an install may reach: the registries its plan uses, and the operator's hosts. */
export function installOrigins(
  plan: InstallPlan,
  settings: Pick<EnvironmentSettings, 'pipIndexUrl' | 'npmRegistry' | 'egressHosts'>,
): AllowedOrigin[] {
  const origins: AllowedOrigin[] = [];
  if (plan.python && settings.pipIndexUrl) origins.push(allowedOriginOf(settings.pipIndexUrl));
  if (plan.node && settings.npmRegistry) origins.push(allowedOriginOf(settings.npmRegistry));
  origins.push(...parseEgressHosts(settings.egressHosts));
  // Each once (an index and a registry on one host are one origin).
  const seen = new Set<string>();
  return origins.filter((origin) => {
    const name = `${origin.scheme}://${origin.host}:${origin.port}`;
    if (seen.has(name)) return false;
    seen.add(name);
    return true;
  });
}

/** What became of the install's output: kept (its size), or not, and why when it was runbox's. */
type Kept = { kept: true; bytes: number } | { kept: false; why: string | null };

function refusalLine(entry: EgressLogEntry): string {
  return `runbox-install: refused: ${entry.method} ${entry.target}: ${entry.reason ?? 'not an allowed package registry'}\n`;
}

/**
 * Runs one install in a sandbox of its own (every layer a run has; its network namespace has only
 * loopback, and its one way out is the egress proxy, which lets through the allowed registries
 * only), then copies what it made (`/workspace/env`) into `destDir`, a new directory, without
 * following any link the install left, and returns the bytes kept. Throws InstallFailedError
 * when the install fails, with the package that failed where pip or npm named one.
 */
export async function installEnvironment(options: {
  host: SandboxHost;
  plan: InstallPlan;
  settings: EnvironmentSettings;
  /** Names the install's cgroup: letters, digits, _ and - only. */
  runId: string;
  destDir: string;
  onOutput?: ((stream: OutputStream, chunk: Buffer) => void) | undefined;
  signal?: AbortSignal | undefined;
  onInternalError?: ((error: unknown, phase: RunPhase) => void) | undefined;
}): Promise<{ bytes: number }> {
  const { host, plan, settings } = options;
  const limits = installLimits(settings);
  // Short names: a Unix socket's path has at most 107 bytes.
  const socketDir = join(host.files.scratch, 'egress', randomBytes(4).toString('hex'));
  await mkdir(socketDir, { recursive: true, mode: 0o755 });
  await chmod(join(host.files.scratch, 'egress'), 0o755);
  const refused: EgressLogEntry[] = [];
  const proxy = await startEgressProxy({
    socketPath: join(socketDir, EGRESS_SOCKET),
    allow: installOrigins(plan, settings),
    onRequest: (entry) => {
      if (entry.allowed) return;
      // The failure names a few; the install's output shows each as it happens.
      if (refused.length < MAX_REFUSALS_KEPT) refused.push(entry);
      options.onOutput?.('stderr', Buffer.from(refusalLine(entry)));
    },
  });
  let tail = '';
  const keepTail = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-64 * 1024);
  };
  try {
    const outcome = await runInSandbox(host, {
      runId: options.runId,
      limits,
      signal: options.signal,
      onInternalError: options.onInternalError,
      onOutput: (stream, chunk) => {
        keepTail(chunk);
        options.onOutput?.(stream, chunk);
      },
      prepare: async (workspaceDir) => {
        const owner = host.runAs;
        await mkdir(join(workspaceDir, MANIFEST_DIR), { mode: 0o755 });
        if (owner) await chown(join(workspaceDir, MANIFEST_DIR), owner.uid, owner.gid);
        for (const file of plan.files)
          await writeNewWorkspaceFile(
            join(workspaceDir, MANIFEST_DIR),
            file.name,
            file.content,
            owner,
          );
        const planFile = { python: plan.python, node: plan.node };
        await writeNewWorkspaceFile(workspaceDir, 'plan.json', JSON.stringify(planFile), owner);
        return {
          argv: [
            `${SANDBOX_RUNTIME_BIN}/node`,
            `${SANDBOX_RUNTIME_DIR}/install-environment.mjs`,
            `${SANDBOX_WORKSPACE}/plan.json`,
          ],
          env: {
            ...baseSandboxEnv(),
            RUNBOX_EGRESS_SOCKET: `${SANDBOX_EGRESS_DIR}/${EGRESS_SOCKET}`,
            RUNBOX_PIP_INDEX_URL: settings.pipIndexUrl ?? '',
            RUNBOX_NPM_REGISTRY: settings.npmRegistry ?? '',
            RUNBOX_NPM_CLI: `${SANDBOX_TOOLS_DIR}/node_modules/npm/bin/npm-cli.js`,
          },
          mounts: [{ source: socketDir, dest: SANDBOX_EGRESS_DIR }],
        };
      },
      // What the install made is kept only after a clean exit; a copy that fails says why.
      inspect: async (workspaceDir, report): Promise<Kept> => {
        if (report.exitCode !== 0 || report.timedOut || report.memoryLimitExceeded)
          return { kept: false, why: null };
        try {
          const copied = await copyProject({
            root: join(workspaceDir, 'env'),
            destDir: options.destDir,
            limits: {
              maxBytes: limits.workspaceBytes,
              maxEntries: MAX_ENVIRONMENT_ENTRIES,
              maxDepth: 64,
            },
            owner: null,
          });
          return { kept: true, bytes: copied.totalBytes };
        } catch (error) {
          const why = error instanceof Error ? error.message : String(error);
          return { kept: false, why: `what it made could not be kept: ${why}` };
        }
      },
    });
    if (outcome.state === 'cancelled') throw new InstallFailedError('the install was cancelled');
    const kept = outcome.inspected;
    if (outcome.state === 'completed' && kept?.kept) return { bytes: kept.bytes };
    throw new InstallFailedError(
      installFailureMessage({
        label: plan.label,
        state: outcome.state,
        exitCode: outcome.report?.exitCode ?? null,
        failure: (kept && !kept.kept ? kept.why : null) ?? outcome.failure,
        limits,
        outputTail: tail,
        refused: refused.map((entry) => entry.target),
      }),
    );
  } finally {
    await proxy.close();
    await rm(socketDir, { recursive: true, force: true });
  }
}
