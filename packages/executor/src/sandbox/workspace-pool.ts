import { execFile } from 'node:child_process';
import { chown, mkdir, readdir, rm, readFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type WorkspaceMechanism = 'tmpfs' | 'directory';

/** A run's private, empty, writable directory; bound at /workspace inside the sandbox. */
export interface Workspace {
  readonly dir: string;
  /** Empties the workspace and gives it back (or removes it). Nothing of the run stays. */
  release(): Promise<void>;
}

export interface WorkspacePool {
  /**
   * 'tmpfs': each workspace is its own tmpfs with a size, so a run that fills it gets ENOSPC.
   * 'directory': a plain directory; only RLIMIT_FSIZE bounds what one file can take.
   */
  readonly mechanism: WorkspaceMechanism;
  readonly root: string;
  acquire(sizeBytes: number): Promise<Workspace>;
  /** Unmounts and removes everything under the root: leftovers of a server that died. */
  removeStale(): Promise<void>;
  /** Unmounts the idle tmpfs slots. */
  close(): Promise<void>;
}

export interface WorkspacePoolOptions {
  root: string;
  owner: { uid: number; gid: number } | null;
  /** Mount a sized tmpfs per workspace. Needs CAP_SYS_ADMIN (root outside a container). */
  useTmpfs: boolean;
  /** Idle tmpfs slots kept mounted for reuse (mounting costs two process spawns). */
  maxIdle?: number;
}

/**
 * Mounting a tmpfs takes a `mount` and an `umount` process, a few milliseconds each, so mounted
 * workspaces are kept as slots: a released slot is emptied and reused by the next run of the same
 * size.
 */
export async function createWorkspacePool(options: WorkspacePoolOptions): Promise<WorkspacePool> {
  const { root, owner } = options;
  const maxIdle = options.maxIdle ?? 8;
  await mkdir(root, { recursive: true, mode: 0o711 });
  await chmod(root, 0o711);
  const idle: { dir: string; sizeBytes: number }[] = [];
  let counter = 0;

  async function empty(dir: string): Promise<void> {
    // rm never follows symlinks: a link the run planted is removed, not its target.
    for (const name of await readdir(dir))
      await rm(join(dir, name), { recursive: true, force: true });
  }

  async function makeDir(): Promise<string> {
    const dir = join(
      root,
      `w${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`,
    );
    await mkdir(dir, { mode: 0o700 });
    return dir;
  }

  async function unmount(dir: string): Promise<void> {
    await run('umount', [dir]);
    await rm(dir, { recursive: true, force: true });
  }

  if (options.useTmpfs) {
    return {
      mechanism: 'tmpfs',
      root,
      async acquire(sizeBytes: number): Promise<Workspace> {
        const index = idle.findIndex((slot) => slot.sizeBytes === sizeBytes);
        let slot = index >= 0 ? idle.splice(index, 1)[0] : undefined;
        if (!slot) {
          const dir = await makeDir();
          const ids = owner ? `,uid=${owner.uid},gid=${owner.gid}` : '';
          await run('mount', [
            '-t',
            'tmpfs',
            '-o',
            `size=${sizeBytes},mode=0700,nosuid,nodev${ids}`,
            'runbox-ws',
            dir,
          ]);
          slot = { dir, sizeBytes };
        }
        const taken = slot;
        let released = false;
        return {
          dir: taken.dir,
          async release(): Promise<void> {
            if (released) return;
            released = true;
            await empty(taken.dir);
            if (idle.length < maxIdle) idle.push(taken);
            else await unmount(taken.dir);
          },
        };
      },
      async removeStale(): Promise<void> {
        const mounts = await readFile('/proc/self/mounts', 'utf8');
        for (const line of mounts.split('\n')) {
          const mountPoint = line.split(' ')[1];
          if (mountPoint?.startsWith(`${root}/`)) await run('umount', ['-l', mountPoint]);
        }
        for (const name of await readdir(root))
          await rm(join(root, name), { recursive: true, force: true });
      },
      async close(): Promise<void> {
        for (const slot of idle.splice(0)) await unmount(slot.dir);
      },
    };
  }

  return {
    mechanism: 'directory',
    root,
    async acquire(): Promise<Workspace> {
      const dir = await makeDir();
      if (owner) await chown(dir, owner.uid, owner.gid);
      let released = false;
      return {
        dir,
        async release(): Promise<void> {
          if (released) return;
          released = true;
          await rm(dir, { recursive: true, force: true });
        },
      };
    },
    async removeStale(): Promise<void> {
      for (const name of await readdir(root))
        await rm(join(root, name), { recursive: true, force: true });
    },
    async close(): Promise<void> {},
  };
}
