import { constants, type Stats } from 'node:fs';
import { chown, lchown, lstat, mkdir, open, readdir, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { SnapshotEntry } from '../artifacts/workspace-snapshot.ts';
import { linkTargetRefusal } from '../project/link-target.ts';

/**
 * Host-side copy of a project into a run's workspace. The project may hold anything its uploader
 * put there, so nothing here follows a link: entries are lstat'ed, a symbolic link is read (never
 * followed) and made again as a link when its target stays inside the project
 * (project/link-target.ts), other links and special files are skipped (and reported), and files
 * are opened with O_NOFOLLOW and checked to be the file that was lstat'ed. The copies are new
 * files (O_EXCL) owned by the sandbox user.
 */

/** tmpfs keeps whole pages: what a file costs the workspace. */
const PAGE_BYTES = 4096;
const COPY_CHUNK_BYTES = 128 * 1024;

export interface ProjectFile {
  /** Relative to the project, with forward slashes. */
  path: string;
  size: number;
  executable: boolean;
}

export interface SkippedProjectEntry {
  path: string;
  kind: 'symlink' | 'other';
}

/** A link the project keeps: relative, and its target stays inside the project. */
export interface ProjectLink {
  path: string;
  /** As readlink tells it; resolved only inside the sandbox. */
  target: string;
}

export interface ProjectScan {
  root: string;
  files: ProjectFile[];
  /** Relative paths of the directories, parents before children. */
  directories: string[];
  /** Links kept as links (made again in a copy, never followed). */
  links: ProjectLink[];
  /** Links that leave the project, and special files (FIFOs, sockets, devices): never copied. */
  skipped: SkippedProjectEntry[];
  /** Every directory, file and kept link by path, as it stood (for telling what a run changed). */
  entries: Map<string, SnapshotEntry>;
  /** The one host user and group that own the root and every entry; null when they differ. */
  owner: { uid: number; gid: number } | null;
  /** Sum of the file sizes. */
  totalBytes: number;
  /** What the files take in a tmpfs workspace: each file rounded up to whole pages. */
  workspaceBytes: number;
}

export interface ProjectLimits {
  /** The workspace's size; a project that needs more is refused. */
  maxBytes: number;
  /** Files and directories at most. Default 10 000. */
  maxEntries?: number | undefined;
  /** Directory depth at most. Default 32. */
  maxDepth?: number | undefined;
}

export class ProjectTooLargeError extends Error {
  /** The user's request is at fault, not runbox (see run-path/user-fault.ts). */
  readonly userFault = true;
  readonly code = 'PROJECT_TOO_LARGE';
  /** 'space': the workspace filled up while copying (a tmpfs also spends memory on metadata). */
  readonly limit: 'bytes' | 'space' | 'entries' | 'depth';
  readonly value: number;
  readonly max: number;
  constructor(options: {
    limit: 'bytes' | 'space' | 'entries' | 'depth';
    value: number;
    max: number;
  }) {
    const what = {
      bytes: `needs ${options.value} bytes in the workspace, which holds ${options.max}`,
      space: `filled the workspace (${options.max} bytes) while it was copied`,
      entries: `has more than ${options.max} files and directories`,
      depth: `nests directories deeper than ${options.max}`,
    }[options.limit];
    super(`the project is too large: it ${what}`);
    this.name = 'ProjectTooLargeError';
    this.limit = options.limit;
    this.value = options.value;
    this.max = options.max;
  }
}

export class ProjectCopyError extends Error {
  readonly code = 'PROJECT_COPY';
  readonly path: string;
  constructor(path: string, problem: string) {
    super(`cannot copy the project${path ? ` at ${JSON.stringify(path)}` : ''}: ${problem}`);
    this.name = 'ProjectCopyError';
    this.path = path;
  }
}

function pagesOf(size: number): number {
  return Math.ceil(size / PAGE_BYTES) * PAGE_BYTES;
}

interface WalkVisitor {
  directory(relativePath: string): Promise<void>;
  file(relativePath: string, stats: Stats): Promise<void>;
  link(link: ProjectLink): Promise<void>;
}

/** Walks the project without following links, applying the limits; returns what was seen. */
async function walkProject(
  root: string,
  limits: ProjectLimits,
  visitor?: WalkVisitor,
): Promise<ProjectScan> {
  const maxEntries = limits.maxEntries ?? 10_000;
  const maxDepth = limits.maxDepth ?? 32;
  const rootStats = await lstat(root).catch((error: unknown) => {
    throw new ProjectCopyError('', error instanceof Error ? error.message : String(error));
  });
  if (!rootStats.isDirectory()) {
    throw new ProjectCopyError('', `${root} is not a directory (links are not followed)`);
  }
  const scan: ProjectScan = {
    root,
    files: [],
    directories: [],
    links: [],
    skipped: [],
    entries: new Map(),
    owner: { uid: rootStats.uid, gid: rootStats.gid },
    totalBytes: 0,
    workspaceBytes: 0,
  };
  let entries = 0;
  const seen = (path: string, stats: Stats, kind: SnapshotEntry['kind']): void => {
    scan.entries.set(path, {
      kind,
      size: kind === 'file' ? stats.size : 0,
      mtimeMs: stats.mtimeMs,
    });
    if (scan.owner && (scan.owner.uid !== stats.uid || scan.owner.gid !== stats.gid))
      scan.owner = null;
  };

  function countEntry(): void {
    entries += 1;
    if (entries > maxEntries) {
      throw new ProjectTooLargeError({ limit: 'entries', value: entries, max: maxEntries });
    }
  }

  async function walk(relativeDir: string, depth: number): Promise<void> {
    const names = (await readdir(join(root, relativeDir))).sort();
    for (const name of names) {
      const path = relativeDir ? `${relativeDir}/${name}` : name;
      const stats = await lstat(join(root, path));
      if (stats.isSymbolicLink()) {
        const target = await readlink(join(root, path));
        if (linkTargetRefusal(path, target) !== null) {
          scan.skipped.push({ path, kind: 'symlink' });
          continue;
        }
        countEntry();
        seen(path, stats, 'symlink');
        scan.links.push({ path, target });
        await visitor?.link({ path, target });
        continue;
      }
      if (!stats.isDirectory() && !stats.isFile()) {
        scan.skipped.push({ path, kind: 'other' });
        continue;
      }
      countEntry();
      if (stats.isDirectory()) {
        if (depth >= maxDepth) {
          throw new ProjectTooLargeError({ limit: 'depth', value: depth + 1, max: maxDepth });
        }
        scan.directories.push(path);
        seen(path, stats, 'directory');
        await visitor?.directory(path);
        await walk(path, depth + 1);
        continue;
      }
      scan.totalBytes += stats.size;
      scan.workspaceBytes += pagesOf(stats.size);
      if (scan.workspaceBytes > limits.maxBytes) {
        throw new ProjectTooLargeError({
          limit: 'bytes',
          value: scan.workspaceBytes,
          max: limits.maxBytes,
        });
      }
      scan.files.push({ path, size: stats.size, executable: (stats.mode & 0o111) !== 0 });
      seen(path, stats, 'file');
      await visitor?.file(path, stats);
    }
  }

  await walk('', 0);
  return scan;
}

/**
 * Lists a project without copying it, and refuses one that would not fit the limits: the check
 * that runs before a workspace is taken or anything is started.
 */
export function scanProject(root: string, limits: ProjectLimits): Promise<ProjectScan> {
  return walkProject(root, limits);
}

/**
 * Copies the project at `root` into `destDir` (an empty workspace): files and directories, links
 * that stay inside the project as links; other links and special files are skipped. The limits
 * are applied again while copying, so a project that grew since its scan is refused all the same.
 */
export async function copyProject(options: {
  root: string;
  destDir: string;
  limits: ProjectLimits;
  owner: { uid: number; gid: number } | null;
}): Promise<ProjectScan> {
  const { root, destDir, owner } = options;
  const buffer = Buffer.alloc(COPY_CHUNK_BYTES);
  let budget = options.limits.maxBytes;

  return walkProject(root, options.limits, {
    async link({ path, target }) {
      const dest = join(destDir, path);
      await symlink(target, dest);
      if (owner) await lchown(dest, owner.uid, owner.gid);
    },
    async directory(path) {
      const dest = join(destDir, path);
      await mkdir(dest, { mode: 0o755 });
      if (owner) await chown(dest, owner.uid, owner.gid);
    },
    async file(path, stats) {
      const source = await open(
        join(root, path),
        constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK,
      );
      let copied = 0;
      const tooLarge = (): ProjectTooLargeError =>
        new ProjectTooLargeError({
          limit: 'bytes',
          value: options.limits.maxBytes - budget + pagesOf(copied),
          max: options.limits.maxBytes,
        });
      try {
        const opened = await source.stat();
        if (!opened.isFile() || opened.ino !== stats.ino || opened.dev !== stats.dev) {
          throw new ProjectCopyError(path, 'the file changed while it was copied');
        }
        const target = await open(
          join(destDir, path),
          constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
          (opened.mode & 0o111) !== 0 ? 0o755 : 0o644,
        );
        try {
          if (owner) await target.chown(owner.uid, owner.gid);
          for (;;) {
            const { bytesRead } = await source.read(buffer, 0, buffer.length, null);
            if (bytesRead === 0) break;
            copied += bytesRead;
            if (pagesOf(copied) > budget) throw tooLarge();
            let written = 0;
            while (written < bytesRead) {
              written += (await target.write(buffer, written, bytesRead - written)).bytesWritten;
            }
          }
          budget -= pagesOf(copied);
        } finally {
          await target.close();
        }
      } catch (error) {
        if (error instanceof Error && 'code' in error && error.code === 'ENOSPC') {
          throw new ProjectTooLargeError({
            limit: 'space',
            value: options.limits.maxBytes - budget + pagesOf(copied),
            max: options.limits.maxBytes,
          });
        }
        throw error;
      } finally {
        await source.close();
      }
    },
  });
}
