import { execFile } from 'node:child_process';
import { chmod, chown, mkdir, readdir, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { detachMountsUnder } from './detach-mounts.ts';
import { emptyWorkspaceTree } from './workspace-tree.ts';

const run = promisify(execFile);

export type WorkspaceMechanism = 'tmpfs' | 'directory';

/**
 * Files (and directories) one tmpfs workspace may hold. Without it a run could make millions of
 * empty files, each a kernel inode the size limit does not count.
 */
export const WORKSPACE_MAX_INODES = 100_000;

/** A run's private, empty, writable directory, made for this run alone; bound at /workspace. */
export interface Workspace {
  readonly dir: string;
  /**
   * Removes the directory and everything in it. When that fails, what held it is detached and
   * never used again; the failure goes to the pool's `onReleaseError`, never to the run.
   */
  release(): Promise<void>;
}

export interface WorkspacePool {
  /**
   * 'tmpfs': each workspace lives in its own sized tmpfs, so a run that fills it gets ENOSPC.
   * 'directory': a plain directory; only RLIMIT_FSIZE bounds what one file can take.
   */
  readonly mechanism: WorkspaceMechanism;
  readonly root: string;
  acquire(sizeBytes: number): Promise<Workspace>;
  /** Unmounts and removes everything under the root: leftovers of a server that died. */
  removeStale(): Promise<void>;
  /** Unmounts the idle tmpfs slots. */
  close(): Promise<void>;
  /** Mounted tmpfs slots, idle and in use (for tests and metrics). */
  mountedSlots(): number;
}

export interface WorkspacePoolOptions {
  root: string;
  owner: { uid: number; gid: number } | null;
  /** Mount a sized tmpfs per workspace. Needs CAP_SYS_ADMIN (root outside a container). */
  useTmpfs: boolean;
  /** Idle tmpfs slots kept mounted for reuse (mounting costs two process spawns). @default 8 */
  maxIdle?: number;
  /** A workspace could not be removed (what held it was detached instead). @default ignore */
  onReleaseError?: (error: unknown) => void;
}

interface Slot {
  mountDir: string;
  sizeBytes: number;
}

/**
 * Every run gets a directory made for it alone, so nothing of one run (files, modes, owners,
 * xattrs, timestamps of /workspace itself) can reach the next. With tmpfs, the directory is made
 * inside a sized tmpfs "slot" that stays mounted (a mount and an unmount cost a process spawn
 * each): the slot's root is never bound into a sandbox, only the run's directory is. A slot is
 * reused only when the run's directory is gone and the slot is empty again; otherwise it is
 * detached (`umount -l`) and dropped: the release path fails closed.
 */
export async function createWorkspacePool(options: WorkspacePoolOptions): Promise<WorkspacePool> {
  const { root, owner } = options;
  const maxIdle = options.maxIdle ?? 8;
  const reportError = options.onReleaseError ?? (() => {});
  await mkdir(root, { recursive: true, mode: 0o711 });
  await chmod(root, 0o711);
  const idle: Slot[] = [];
  let mounted = 0;
  let counter = 0;

  const uniqueName = (prefix: string): string =>
    `${prefix}${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;

  /** A fresh directory for one run, owned by the sandbox user, reachable only by it and root. */
  async function makeRunDir(parent: string): Promise<string> {
    const dir = join(parent, uniqueName('r'));
    await mkdir(dir, { mode: 0o700 });
    if (owner) await chown(dir, owner.uid, owner.gid);
    return dir;
  }

  async function removeRunDir(dir: string): Promise<void> {
    await emptyWorkspaceTree(dir);
    await rmdir(dir);
  }

  async function mountSlot(sizeBytes: number): Promise<Slot> {
    const mountDir = join(root, uniqueName('s'));
    await mkdir(mountDir, { mode: 0o711 });
    // Root's own, traversable but not listable: the sandbox user (bwrap runs as it) must reach its
    // run's directory to bind it, and may see nothing else.
    await run('mount', [
      '-t',
      'tmpfs',
      '-o',
      `size=${sizeBytes},nr_inodes=${WORKSPACE_MAX_INODES},mode=0711,nosuid,nodev`,
      'runbox-ws',
      mountDir,
    ]);
    mounted++;
    return { mountDir, sizeBytes };
  }

  async function unmountSlot(slot: Slot, lazy: boolean): Promise<void> {
    await run('umount', lazy ? ['-l', slot.mountDir] : [slot.mountDir]);
    mounted--;
    await rmdir(slot.mountDir);
  }

  async function releaseSlot(slot: Slot, runDir: string): Promise<void> {
    try {
      await removeRunDir(runDir);
      const left = await readdir(slot.mountDir);
      if (left.length > 0) throw new Error(`the workspace slot still holds ${left.length} entries`);
    } catch (error) {
      reportError(error);
      // Never reused, never leaked: detached now, its memory freed once nothing uses it.
      await unmountSlot(slot, true).catch(reportError);
      return;
    }
    if (idle.length < maxIdle) idle.push(slot);
    else await unmountSlot(slot, false).catch(reportError);
  }

  if (options.useTmpfs) {
    return {
      mechanism: 'tmpfs',
      root,
      async acquire(sizeBytes: number): Promise<Workspace> {
        const index = idle.findIndex((candidate) => candidate.sizeBytes === sizeBytes);
        const slot =
          (index >= 0 ? idle.splice(index, 1)[0] : undefined) ?? (await mountSlot(sizeBytes));
        let dir: string;
        try {
          dir = await makeRunDir(slot.mountDir);
        } catch (error) {
          await unmountSlot(slot, true).catch(reportError);
          throw error;
        }
        let released: Promise<void> | null = null;
        return {
          dir,
          release: () => (released ??= releaseSlot(slot, dir)),
        };
      },
      async removeStale(): Promise<void> {
        await detachMountsUnder(root, false);
        for (const name of await readdir(root))
          await rm(join(root, name), { recursive: true, force: true });
      },
      async close(): Promise<void> {
        for (const slot of idle.splice(0)) await unmountSlot(slot, false).catch(reportError);
      },
      mountedSlots: () => mounted,
    };
  }

  return {
    mechanism: 'directory',
    root,
    async acquire(): Promise<Workspace> {
      const dir = await makeRunDir(root);
      let released: Promise<void> | null = null;
      return {
        dir,
        release: () => (released ??= removeRunDir(dir).catch(reportError)),
      };
    },
    async removeStale(): Promise<void> {
      for (const name of await readdir(root)) await removeRunDir(join(root, name));
    },
    async close(): Promise<void> {},
    mountedSlots: () => 0,
  };
}
