import { createHash } from 'node:crypto';
import { access, chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSeccompFilter, hostSeccompArch } from './seccomp-filter.ts';
import { CgroupUnavailableError, unavailableCgroupDriver, type CgroupDriver } from './cgroup.ts';
import { detectCgroupDriver, type CgroupPreference } from './cgroup-detect.ts';
import type { HostTools, ReadOnlyMount } from './sandbox-command.ts';
import { probeProjectLayer } from '../project/project-layer.ts';
import { runtimeMount } from '../result/runtime-mount.ts';
import { sandboxToolsMount } from '../tools/sandbox-tools.ts';
import { SANDBOX_RUNTIME_BIN } from './sandbox-environment.ts';
import { prepareSandboxFiles, type SandboxFiles } from './sandbox-files.ts';
import { startSandboxForker, type SandboxForker } from './sandbox-forker.ts';
import {
  runSandboxed,
  spawnSandbox,
  type SandboxRunOptions,
  type SandboxRunReport,
  type SandboxSpawnOptions,
  type SpawnedSandbox,
} from './sandbox-run.ts';
import { createWorkspacePool, type WorkspacePool } from './workspace-pool.ts';

export interface SandboxHostConfig {
  /** Directory for the sandbox's own files and the workspaces. Default `$TMPDIR/runbox-sandbox`. */
  stateDir?: string | undefined;
  /** cgroup version to use. Default 'auto'. */
  cgroup?: CgroupPreference | undefined;
  /** v1: the group under each hierarchy that holds runs. Default `runbox-<hash of stateDir>`. */
  cgroupGroupName?: string | undefined;
  /** v2: the delegated subtree. Default this process's own cgroup. */
  cgroupV2Base?: string | undefined;
  /** Host uid and gid the sandbox runs as when the server is root. Default 64000. */
  sandboxUid?: number | undefined;
  /**
   * Host uid and gid of the long-lived syntax checkers' sandboxes when the server is root: not the
   * runs' own, so that no process of the runs' uid outlives the runs. Default 63999.
   */
  checkerUid?: number | undefined;
  /** The Node binary offered inside the sandbox as `node`. Default the one running this server. */
  nodeBinary?: string | undefined;
  /** Per-run tmpfs workspaces when allowed to mount. Default true. */
  workspaceTmpfs?: boolean | undefined;
  /**
   * A tool run sees its project through an overlay instead of a copy, when the host can mount one
   * (root, tmpfs workspaces) and the sandbox user owns the project (project/project-layer.ts).
   * Default true.
   */
  projectLayers?: boolean | undefined;
  /**
   * More read-only binds for every run. Default none. Unlike runbox's own files, these are bound
   * from where they are, and the sandbox's mountinfo shows their host paths. Not under /etc or
   * /opt/runbox: those are read-only binds already, where no mount point can be made.
   */
  extraMounts?: readonly ReadOnlyMount[] | undefined;
  /**
   * Host directory of the sandbox tools (TypeScript, ESLint), offered at /opt/runbox/tools (copied
   * in at start). Default `.runbox/sandbox-tools` of this checkout; null offers none.
   */
  sandboxToolsDir?: string | null | undefined;
  /**
   * A run's workspace could not be removed; what held it was detached and is never reused. For the
   * log. @default ignore
   */
  onWorkspaceReleaseError?: ((error: unknown) => void) | undefined;
}

/** Everything a sandboxed run needs from the host, found and checked once at start. */
export interface SandboxHost {
  readonly cgroups: CgroupDriver;
  readonly workspaces: WorkspacePool;
  readonly runAs: { uid: number; gid: number } | null;
  /** Whom the long-lived syntax checkers run as (null: the server's own user, as runs). */
  readonly checkerRunAs: { uid: number; gid: number } | null;
  readonly tools: HostTools;
  /**
   * Whether tool runs see their projects through a layer, not a copy; when not, why (probed once
   * at start: a private mount namespace and an overlay on a tmpfs workspace).
   */
  readonly projectLayers: { available: true } | { available: false; reason: string };
  readonly stateDir: string;
  readonly seccompArch: string;
  /** Where the sandbox's /etc and /opt/runbox come from, and whether their binds hide the host. */
  readonly files: Omit<SandboxFiles, 'mounts' | 'close'>;
  run(options: SandboxRunOptions): Promise<SandboxRunReport>;
  /** Starts a sandbox that waits to be told to go (warm sandboxes); `run` is spawn, then go. */
  spawn(options: SandboxSpawnOptions): Promise<SpawnedSandbox>;
  /** Kills leftover runs and workspaces of a server that died; for a server's start, not a test's. */
  removeStale(): Promise<void>;
  /**
   * Ties something long-lived that runs in this host's sandboxes (the syntax checkers) to the
   * host: `close` is awaited first when the host closes, while its workspaces and files are still
   * there, so whoever closes the host ends it too.
   */
  onClose(close: () => Promise<void>): void;
  close(): Promise<void>;
}

export class SandboxHostError extends Error {
  readonly code = 'SANDBOX_HOST_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'SandboxHostError';
  }
}

const TOOL_DIRS = ['/usr/bin', '/bin', '/usr/sbin', '/sbin'];

async function findTool(name: string): Promise<string> {
  for (const dir of TOOL_DIRS) {
    const path = join(dir, name);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // next directory
    }
  }
  throw new SandboxHostError(
    `${name} is not installed (looked in ${TOOL_DIRS.join(', ')}); ./runbox installs it from docker/apt-packages.txt`,
  );
}

export async function createSandboxHost(config: SandboxHostConfig = {}): Promise<SandboxHost> {
  const stateDir = config.stateDir ?? join(tmpdir(), 'runbox-sandbox');
  const isRoot = process.getuid?.() === 0;
  const sandboxUid = config.sandboxUid ?? 64000;
  const runAs = isRoot ? { uid: sandboxUid, gid: sandboxUid } : null;
  const checkerUid = config.checkerUid ?? 63999;
  if (isRoot && checkerUid === sandboxUid)
    throw new SandboxHostError(
      `the syntax checkers' uid (${checkerUid}) must not be the sandbox's: runs would see their processes`,
    );
  const checkerRunAs = isRoot ? { uid: checkerUid, gid: checkerUid } : null;

  const tools: HostTools = {
    sh: await findTool('bash'),
    bwrap: await findTool('bwrap'),
    init: await findTool('tini-static'),
    unshare: await findTool('unshare'),
    mount: await findTool('mount'),
  };
  if (!tools.init.startsWith('/usr/'))
    throw new SandboxHostError(
      `the sandbox's init must be under /usr, which is all a sandbox sees of the host: ${tools.init}`,
    );

  // Started now, ready by the end: its Python starts while the rest is made (./runbox exec waits
  // for both). A host that fails to start ends it again.
  const forkerStarting = startSandboxForker();
  forkerStarting.catch(() => {});
  try {
    return await assembleHost(config, {
      stateDir,
      isRoot,
      runAs,
      checkerRunAs,
      tools,
      forkerStarting,
    });
  } catch (error) {
    await forkerStarting.then((forker) => forker.close()).catch(() => {});
    throw error;
  }
}

async function assembleHost(
  config: SandboxHostConfig,
  made: {
    stateDir: string;
    isRoot: boolean;
    runAs: { uid: number; gid: number } | null;
    checkerRunAs: { uid: number; gid: number } | null;
    tools: HostTools;
    forkerStarting: Promise<SandboxForker>;
  },
): Promise<SandboxHost> {
  const { stateDir, isRoot, runAs, checkerRunAs, tools } = made;
  await mkdir(stateDir, { recursive: true, mode: 0o711 });
  await chmod(stateDir, 0o711);
  const seccompArch = hostSeccompArch();
  const seccompFile = join(stateDir, `seccomp-${seccompArch}.bpf`);
  await writeFile(seccompFile, buildSeccompFilter(seccompArch), { mode: 0o644 });

  const cgroups = await detectCgroupDriver({
    prefer: config.cgroup ?? 'auto',
    v2Base: config.cgroupV2Base,
    // Per sandbox directory: a server's clean-up of stale runs at start touches its own only.
    v1GroupName:
      config.cgroupGroupName ??
      `runbox-${createHash('sha256').update(stateDir).digest('hex').slice(0, 10)}`,
  }).catch((error: unknown) => {
    if (error instanceof CgroupUnavailableError) return unavailableCgroupDriver(error);
    throw error;
  });

  const workspaces = await createWorkspacePool({
    root: join(stateDir, 'workspaces'),
    owner: runAs,
    useTmpfs: isRoot && config.workspaceTmpfs !== false,
    onReleaseError: config.onWorkspaceReleaseError,
  });

  const projectLayers = await projectLayerSupport(
    config.projectLayers !== false,
    workspaces,
    tools,
    stateDir,
  );

  // The sandbox's /etc and /opt/runbox, copied where their binds name nothing of the host
  // (sandbox-files.ts): a private tmpfs when runbox may mount.
  const files = await prepareSandboxFiles({
    parent: join(stateDir, 'files'),
    useTmpfs: isRoot,
    sources: [
      { source: config.nodeBinary ?? process.execPath, dest: `${SANDBOX_RUNTIME_BIN}/node` },
      // The language runners: last-expression values and the result channel.
      runtimeMount(),
      // TypeScript and ESLint for the tools that need them; skipped when not installed.
      ...(config.sandboxToolsDir === null ? [] : [sandboxToolsMount(config.sandboxToolsDir)]),
    ],
  });
  const mounts: ReadOnlyMount[] = [...files.mounts, ...(config.extraMounts ?? [])];

  const forker = await made.forkerStarting;
  const deps = { cgroups, tools, mounts, runAs, seccompFile, forker };
  const closers: (() => Promise<void>)[] = [];
  let closed = false;
  return {
    cgroups,
    workspaces,
    runAs,
    checkerRunAs,
    tools,
    projectLayers,
    stateDir,
    seccompArch,
    files: {
      mechanism: files.mechanism,
      root: files.root,
      scratch: files.scratch,
      hidesHostLayout: files.hidesHostLayout,
      tmpfsUnavailable: files.tmpfsUnavailable,
      copiedBytes: files.copiedBytes,
    },
    run: (options) => runSandboxed(deps, options),
    spawn: (options) => spawnSandbox(deps, options),
    async removeStale() {
      await cgroups.removeStale();
      await workspaces.removeStale();
    },
    onClose(close) {
      // Too late to wait for: it ends now.
      if (closed) void close().catch(() => {});
      else closers.push(close);
    },
    async close() {
      closed = true;
      // Each is its own; one that fails must not keep the others, or the host, open.
      await Promise.allSettled(closers.splice(0).map((close) => close()));
      await workspaces.close();
      await files.close();
      await cgroups.close();
      await forker.close();
    },
  };
}

/**
 * Whether project layers work here: asked for, tmpfs workspaces (runbox may mount), and an overlay
 * mounted once, in a directory of the sandbox directory's own (not the workspace pool's, which a
 * server empties right after it makes its host).
 */
async function projectLayerSupport(
  wanted: boolean,
  workspaces: WorkspacePool,
  tools: HostTools,
  stateDir: string,
): Promise<SandboxHost['projectLayers']> {
  if (!wanted) return { available: false, reason: 'turned off (projectLayers: false)' };
  if (workspaces.mechanism !== 'tmpfs')
    return {
      available: false,
      reason: 'workspaces are plain directories (runbox may not mount here)',
    };
  const dir = await mkdtemp(join(stateDir, 'layer-probe-'));
  try {
    const problem = await probeProjectLayer(tools, dir);
    return problem === null ? { available: true } : { available: false, reason: problem };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
