import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmod,
  copyFile,
  lstat,
  mkdir,
  readdir,
  readFile,
  realpath,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { detachMountsUnder } from './detach-mounts.ts';
import { parseMountInfo, pathInFilesystem } from './mount-table.ts';
import type { ReadOnlyMount } from './sandbox-command.ts';
import {
  HOST_ETC_COPIES,
  MASKED_PROC_FILES,
  SANDBOX_OPT_DIR,
  syntheticEtcFiles,
} from './sandbox-environment.ts';
import { isAlive } from './process-alive.ts';
import { pathExists } from './path-exists.ts';

const run = promisify(execFile);

/**
 * 'tmpfs': a private tmpfs the host mounts (root): every bind from it shows a path from the
 * tmpfs's own root (`/etc`, `/opt/runbox`), which names nothing of the host.
 * 'directory': a plain directory in the sandbox directory; its binds show where it is, unless the
 * sandbox directory is itself the root of a filesystem (a tmpfs of its own, as in docker/compose).
 */
export type SandboxFilesMechanism = 'tmpfs' | 'directory';

const SCRATCH_DIR = 'scratch';

/** Where one piece of what the sandbox sees under /opt/runbox comes from. */
export interface SandboxFileSource {
  /** On the host: a file or a directory. */
  source: string;
  /** Inside the sandbox, under /opt/runbox. */
  dest: string;
  /** Skip it when the source does not exist (the sandbox tools). */
  optional?: boolean;
}

export interface SandboxFilesOptions {
  /**
   * `<sandbox dir>/files`: each host's files go in a directory of their own under it, named for
   * the process, so that a `./runbox doctor` or `exec` beside a live server on the same sandbox
   * directory never touches the server's; those of processes that are gone are removed.
   */
  parent: string;
  /** Mount a private tmpfs for them; a plain directory when false or when the mount fails. */
  useTmpfs: boolean;
  /** What appears under /opt/runbox: the Node binary, the language runners, the sandbox tools. */
  sources: readonly SandboxFileSource[];
}

export interface SandboxFiles {
  readonly mechanism: SandboxFilesMechanism;
  /** This host's directory: `<parent>/<pid>-<random>`. */
  readonly root: string;
  /**
   * A directory runbox writes in while it runs (egress sockets, mount points of environments):
   * a small tmpfs of its own with the 'tmpfs' mechanism, so that its binds name nothing of the
   * host either; a plain directory otherwise.
   */
  readonly scratch: string;
  /**
   * True when no bind made from here shows a host path: the root of a tmpfs, or a directory at
   * the root of its filesystem. False: the sandbox's mountinfo names the sandbox directory, and
   * the sources bound from the host (the toolchain's Node, the checkout's runners) by their paths.
   */
  readonly hidesHostLayout: boolean;
  /** Why a tmpfs was wanted but not used; null otherwise. */
  readonly tmpfsUnavailable: string | null;
  /** Bytes copied in (the price of hiding what would otherwise be bound from the host). */
  readonly copiedBytes: number;
  /**
   * The read-only binds every run gets: /etc, /opt/runbox, what is bound from the host instead
   * of copied, and an empty file over each host-describing /proc file (made after /proc).
   */
  readonly mounts: readonly ReadOnlyMount[];
  /** Unmounts the tmpfs (lazily: a sandbox still starting may hold it) and removes the files. */
  close(): Promise<void>;
}

/**
 * A source that lives under /usr is bound where it is: the sandbox sees /usr already, so its path
 * says nothing new (the Docker image's Node is /usr/local/bin/node).
 */
function isUnderUsr(path: string): boolean {
  return path.startsWith('/usr/');
}

async function readMounts(): Promise<ReturnType<typeof parseMountInfo>> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

/** Removes the files of hosts whose process is gone (a server that died kept its tmpfs mounted). */
async function removeStaleFiles(parent: string): Promise<void> {
  for (const name of await readdir(parent)) {
    const pid = Number.parseInt(name, 10);
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) continue;
    await detachMountsUnder(join(parent, name), true);
    await rm(join(parent, name), { recursive: true, force: true });
  }
}

/**
 * A tmpfs outlives a server that is killed (SIGKILL, the OOM killer) with ~180 MB in it until the
 * next start on the same sandbox directory, and a test's or a bench's directory has none. This
 * process, in a session of its own so that a kill of the server's process group spares it, waits
 * for the end of a pipe only the server holds (the kernel closes it however the server ends) and
 * then detaches and removes the files.
 */
function startFilesWatchdog(root: string): ChildProcess {
  const watchdog = spawn(
    'sh',
    [
      '-c',
      'read -r _; umount -l -- "$1" 2>/dev/null; rm -rf -- "$1"',
      'runbox-files-watchdog',
      root,
    ],
    { stdio: ['pipe', 'ignore', 'ignore'], detached: true },
  );
  watchdog.on('error', () => {});
  watchdog.stdin?.on('error', () => {});
  // Neither the process nor its pipe keeps the server's event loop alive.
  watchdog.unref();
  (watchdog.stdin as (NodeJS.WritableStream & { unref?: () => void }) | null)?.unref?.();
  return watchdog;
}

/** Whether anything is at `path`: a link is, even one that leads nowhere (it is copied as a link). */
async function isPresent(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return false;
    throw error;
  }
}

/** The sandbox's /etc: synthetic accounts and hosts, plus copies of what runtimes read. */
async function writeSandboxEtc(etcDir: string): Promise<void> {
  await mkdir(etcDir, { mode: 0o755 });
  await chmod(etcDir, 0o755);
  const present: string[] = [];
  for (const path of HOST_ETC_COPIES) if (await isPresent(path)) present.push(path);
  // cp(1), links kept as links: Node's fs.cp took ~100 ms on /etc/alternatives' 400 links, cp 10.
  if (present.length > 0) {
    await run('cp', ['-RP', '--preserve=mode,timestamps', '--', ...present, `${etcDir}/`]);
  }
  for (const [name, content] of Object.entries(syntheticEtcFiles())) {
    await writeFile(join(etcDir, name), content, { mode: 0o644 });
  }
}

/** Copies a file or a directory tree (links kept as links, modes kept); returns the bytes. */
async function copyInto(source: string, target: string): Promise<number> {
  const info = await stat(source);
  if (info.isDirectory()) {
    // cp(1): Node's fs.cp took several times as long on the sandbox tools' 3,000 files.
    await run('cp', ['-RP', '--preserve=mode,timestamps', '--', source, target]);
    const { stdout } = await run('du', ['-sb', '--', target]);
    return Number(stdout.split('\t')[0]) || 0;
  }
  await copyFile(source, target);
  await chmod(target, info.mode & 0o7777);
  return info.size;
}

/**
 * The sandbox's own files, laid out as the sandbox sees them (`etc/`, `opt/runbox/…`, `empty`),
 * in one place whose binds name nothing of the host. A bind shows its source's path inside the
 * source's filesystem (mountinfo's fourth field) wherever it is bound, so what would name the
 * checkout, the toolchain or the sandbox directory is copied here instead; this is the copy's
 * price, paid once at start. When the copy would hide nothing (a plain directory not at a
 * filesystem's root), the sources are bound from the host as they are and nothing big is copied.
 */
export async function prepareSandboxFiles(options: SandboxFilesOptions): Promise<SandboxFiles> {
  const { parent } = options;
  await mkdir(parent, { recursive: true, mode: 0o755 });
  await chmod(parent, 0o755);
  await removeStaleFiles(parent);
  const root = join(parent, `${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(root, { mode: 0o755 });
  await chmod(root, 0o755);

  let mechanism: SandboxFilesMechanism = 'directory';
  let watchdog: ChildProcess | null = null;
  let tmpfsUnavailable: string | null = null;
  if (options.useTmpfs) {
    try {
      await run('mount', ['-t', 'tmpfs', '-o', 'mode=0755,nosuid,nodev', 'runbox-files', root]);
      mechanism = 'tmpfs';
      watchdog = startFilesWatchdog(root);
    } catch (error) {
      tmpfsUnavailable = error instanceof Error ? error.message.trim() : String(error);
    }
  }
  // A directory hides as much only when the sandbox directory is the root of its filesystem: the
  // binds then show `/files/<name>/etc`.
  const hidesHostLayout =
    mechanism === 'tmpfs' ||
    pathInFilesystem(await realpath(parent), await readMounts()) === `/${basename(parent)}`;

  let copiedBytes = 0;
  const hostBinds: ReadOnlyMount[] = [];
  const optDir = join(root, SANDBOX_OPT_DIR.slice(1));
  try {
    await writeSandboxEtc(join(root, 'etc'));
    await mkdir(optDir, { recursive: true, mode: 0o755 });
    for (const { source, dest, optional } of options.sources) {
      if (!dest.startsWith(`${SANDBOX_OPT_DIR}/`)) {
        throw new TypeError(`${dest} is not under ${SANDBOX_OPT_DIR}`);
      }
      if (optional && !(await pathExists(source))) continue;
      const target = join(root, dest.slice(1));
      await mkdir(dirname(target), { recursive: true, mode: 0o755 });
      const realSource = await realpath(source);
      if (hidesHostLayout && !isUnderUsr(realSource)) {
        copiedBytes += await copyInto(realSource, target);
        continue;
      }
      // Bound from the host: an empty mount point here, under the bind of /opt/runbox.
      if ((await stat(realSource)).isDirectory()) await mkdir(target, { mode: 0o755 });
      else await writeFile(target, '', { mode: 0o444 });
      hostBinds.push({ source: realSource, dest });
    }
    // Reads as empty wherever it covers a /proc file; a file of ours, so its path is neutral too.
    await writeFile(join(root, 'empty'), '', { mode: 0o444 });
    await mkdir(join(root, SCRATCH_DIR), { mode: 0o755 });
    if (mechanism === 'tmpfs') {
      await run('mount', ['-o', 'remount,ro', root]);
      // Writable, and a filesystem of its own: what is made here at run time (an install's
      // egress socket, the mount points of environments) shows no host path when bound either.
      await run('mount', [
        '-t',
        'tmpfs',
        '-o',
        'mode=0755,nosuid,nodev,size=16m',
        'runbox-scratch',
        join(root, SCRATCH_DIR),
      ]);
    }
  } catch (error) {
    await detachMountsUnder(root, true).catch(() => {});
    await rm(root, { recursive: true, force: true }).catch(() => {});
    watchdog?.stdin?.end();
    throw error;
  }

  const masks: ReadOnlyMount[] = [];
  for (const procFile of MASKED_PROC_FILES) {
    // Which of them exist depends on the kernel's configuration, the same inside and out. One that
    // only root may read is unreadable inside already (the sandbox is never the host's root), and
    // each bind costs every run's start about 0.1 ms.
    const mode = await stat(procFile).then(
      (info) => info.mode,
      () => 0,
    );
    if (mode & 0o004) masks.push({ source: join(root, 'empty'), dest: procFile });
  }

  return {
    mechanism,
    root,
    scratch: join(root, SCRATCH_DIR),
    hidesHostLayout,
    tmpfsUnavailable,
    copiedBytes,
    mounts: [
      { source: join(root, 'etc'), dest: '/etc' },
      { source: optDir, dest: SANDBOX_OPT_DIR },
      ...hostBinds,
      ...masks,
    ],
    async close() {
      try {
        await detachMountsUnder(root, true);
        await rm(root, { recursive: true, force: true });
      } finally {
        // Finds nothing left to do, and ends; waited for, so that it is reaped here, not left to
        // an init that may never reap it. Referenced while waited for: in a process with nothing
        // else to do (./runbox exec, doctor) an unreferenced child's exit is never seen, the
        // event loop empties and close() never settles.
        if (watchdog && watchdog.exitCode === null && watchdog.signalCode === null) {
          const ended = new Promise<void>((resolve) => watchdog?.once('exit', () => resolve()));
          watchdog.ref();
          watchdog.stdin?.end();
          await Promise.race([ended, sleep(2_000, undefined, { ref: false })]);
          watchdog.unref();
        }
      }
    },
  };
}
