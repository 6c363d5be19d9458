import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { WorkspaceSnapshot } from '../artifacts/workspace-snapshot.ts';

/**
 * A tool run's project without a copy: the stored project is the read-only lower layer of an
 * overlay whose upper layer is the run's own workspace, so the run sees its project at /workspace,
 * may write, change and delete there as on a copy, and every write lands in its workspace alone.
 * Starting costs the same for ten files as for ten thousand.
 *
 * The run's workspace directory holds the overlay's parts under fixed names:
 *   upper/   what the run creates or changes (the sandbox user's): the only place it writes
 *   work/    the overlay's scratch directory (root's)
 *   merged/  where the overlay is mounted; bound at /workspace
 *   lower    a link to the stored project, so that the mount names it `lower`
 * The launcher (the forker's child, sandbox/sandbox-forker.py) mounts the overlay in a mount
 * namespace of its own, nosuid and nodev, with these relative names, after a `cd` into the
 * workspace: the sandbox's mountinfo shows `lowerdir=lower,upperdir=upper,workdir=work`, no host
 * path. The namespace, and the mount with it, end with the run's last process; nothing is left to
 * unmount.
 *
 * Owners: the overlay shows each file with its owner in the lower layer, and the run may change
 * a file or write in a directory only if it could there. So a project is layered only when every
 * entry belongs to the sandbox user (uploads and workers' copies are stored so); any other
 * project is copied, as before (place-project.ts).
 */

export const LAYER_LOWER = 'lower';
export const LAYER_UPPER = 'upper';
export const LAYER_WORK = 'work';
export const LAYER_MERGED = 'merged';

/** The overlay's name in mountinfo. */
export const LAYER_SOURCE = 'runbox-project';

/**
 * The overlay's own options (mount(2)'s data; the flags nosuid and nodev go beside them). Pinned,
 * whatever the kernel's defaults: no redirects and no metacopy (every changed file is whole in the
 * upper layer, where the inspection reads it; a renamed directory of the project is copied, as
 * `mv` does across filesystems), no index.
 */
export const LAYER_MOUNT_DATA = [
  `lowerdir=${LAYER_LOWER}`,
  `upperdir=${LAYER_UPPER}`,
  `workdir=${LAYER_WORK}`,
  'redirect_dir=off',
  'metacopy=off',
  'index=off',
].join(',');

/** mount(8)'s -o: the flags nosuid and nodev, then the overlay's own options. */
export const LAYER_MOUNT_OPTIONS = `nosuid,nodev,${LAYER_MOUNT_DATA}`;

/** mount(8)'s arguments, run in the workspace directory: no mtab, no helper programs. */
export const LAYER_MOUNT_ARGS: readonly string[] = [
  '-n',
  '-i',
  '-t',
  'overlay',
  '-o',
  LAYER_MOUNT_OPTIONS,
  LAYER_SOURCE,
  LAYER_MERGED,
];

/** A project to be seen through a layer: where it is stored, and what it holds. */
export interface ProjectLayer {
  /** The stored project; never written. */
  projectDir: string;
  /** Its entries as listed: a run's files are what differ from these. */
  contents: WorkspaceSnapshot;
}

/** Where a layered run's own files are, on the host, once it has ended. */
export function layerUpperDir(workspaceDir: string): string {
  return join(workspaceDir, LAYER_UPPER);
}

/** Where the sandbox's /workspace is bound from for a layered run. */
export function layerMergedDir(workspaceDir: string): string {
  return join(workspaceDir, LAYER_MERGED);
}

/**
 * Lays out the overlay's parts in a run's fresh, empty workspace directory. `owner`: the sandbox
 * user, who owns the upper layer (the root of /workspace) and the mount point.
 */
export async function makeProjectLayer(
  workspaceDir: string,
  projectDir: string,
  owner: { uid: number; gid: number } | null,
): Promise<void> {
  for (const name of [LAYER_UPPER, LAYER_MERGED]) {
    const dir = join(workspaceDir, name);
    await mkdir(dir, { mode: 0o700 });
    if (owner) await chown(dir, owner.uid, owner.gid);
  }
  await mkdir(join(workspaceDir, LAYER_WORK), { mode: 0o700 });
  await symlink(projectDir, join(workspaceDir, LAYER_LOWER));
  // The directory that holds the parts is the server's from now, searchable only: nothing of
  // the sandbox user's could rename `lower` or the others before the launcher mounts them.
  if (owner) {
    await chown(workspaceDir, process.getuid?.() ?? 0, process.getgid?.() ?? 0);
    await chmod(workspaceDir, 0o711);
  }
}

const exec = promisify(execFile);
const LAUNCH_ENV: Record<string, string> = { PATH: '/usr/bin:/bin' };

/**
 * Whether this host can mount a project layer: a private mount namespace (unshare), an overlay on
 * a tmpfs workspace. Tried once, in `workspaceDir` (an empty workspace of the host's own pool),
 * with a file in a lower layer of its own. Null when it works; otherwise why not.
 */
export async function probeProjectLayer(
  tools: { unshare: string; mount: string; sh: string },
  workspaceDir: string,
): Promise<string | null> {
  const project = join(workspaceDir, 'probe-project');
  const layer = join(workspaceDir, 'probe-layer');
  try {
    await mkdir(project, { mode: 0o755 });
    await writeFile(join(project, 'probe'), 'runbox\n', { mode: 0o644 });
    await mkdir(layer, { mode: 0o700 });
    await makeProjectLayer(layer, project, null);
    const script = `cd -- "$1" && "$2" ${LAYER_MOUNT_ARGS.map((arg) => `'${arg}'`).join(' ')} && cat ${LAYER_MERGED}/probe`;
    const { stdout } = await exec(
      tools.unshare,
      [
        '--mount',
        '--propagation',
        'private',
        '--',
        tools.sh,
        '-c',
        script,
        'probe',
        layer,
        tools.mount,
      ],
      {
        timeout: 10_000,
        // ProcessEnv, not the Record it is: Next's global types (the web app type-checks this file
        // again) make NODE_ENV required there.
        env: LAUNCH_ENV as NodeJS.ProcessEnv,
      },
    );
    return stdout === 'runbox\n'
      ? null
      : `the layer showed ${JSON.stringify(stdout.slice(0, 100))}`;
  } catch (error) {
    const stderr = (error as { stderr?: unknown }).stderr;
    const detail =
      typeof stderr === 'string' && stderr.trim() !== '' ? stderr.trim() : String(error);
    return `an overlay could not be mounted: ${detail.slice(0, 300)}`;
  }
}
