import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { RUNBOX_DIR } from '../result/result-path.ts';
import { openWorkspaceReadStream, readWorkspaceLink } from '../sandbox/safe-read-stream.ts';
import { ArtifactOptionsError } from './artifact-errors.ts';
import { mediaTypeOf } from './media-type.ts';
import { scanWorkspace } from '../sandbox/workspace-tree.ts';
import { isCreatedOrChanged, type WorkspaceSnapshot } from './workspace-snapshot.ts';

const MiB = 1024 * 1024;

export type ArtifactKind = 'file' | 'symlink';

/** One file (or link) a run created or changed in its workspace. */
export interface Artifact {
  /** Relative to the workspace, with forward slashes. */
  path: string;
  kind: ArtifactKind;
  /** Bytes of the file; 0 for a link. */
  size: number;
  /** Hex SHA-256 of the bytes kept; null for a link. */
  sha256: string | null;
  /** From the extension; 'inode/symlink' for a link. */
  mediaType: string;
  /** What a link points at, as readlink tells it. A link is listed, never followed, never served. */
  linkTarget?: string;
}

/** Longest relative path of a kept artifact; its copy's host path must stay under PATH_MAX. */
export const MAX_ARTIFACT_PATH = 1_024;

export type ArtifactSkipReason =
  /** Over maxFileBytes. */
  | 'file_too_large'
  /** Would take the kept bytes over maxTotalBytes. */
  | 'total_too_large'
  /** A FIFO, a socket or a device. */
  | 'not_a_regular_file'
  /** A name that is not valid UTF-8 (shown with replacement characters). */
  | 'unreadable_name'
  /**
   * A directory deeper than the scan goes (what is inside is not looked at), or a path too long
   * to keep (over MAX_ARTIFACT_PATH characters).
   */
  | 'too_deep'
  /** It could not be opened safely (it vanished, or a link stood on its path). */
  | 'unreadable';

export interface SkippedArtifact {
  path: string;
  reason: ArtifactSkipReason;
  /** Bytes, where known. */
  size: number | null;
}

export interface ArtifactCollection {
  artifacts: Artifact[];
  skipped: SkippedArtifact[];
  /** More changed entries than maxFiles (artifacts, or skipped ones), or than the scan looks at. */
  truncated: boolean;
}

export interface CollectArtifactsOptions {
  /** The run's workspace on the host. The run must have ended: nothing else writes to it. */
  workspaceDir: string;
  /** snapshotWorkspace() of the same directory, taken before the run started. */
  before: WorkspaceSnapshot;
  /**
   * Host directory the files are copied into, at their relative paths. Created here if missing;
   * it must be the host's own (never inside a workspace), and empty.
   */
  destinationDir: string;
  /** Artifacts (files and links) listed at most; the rest makes `truncated`. Default 100. */
  maxFiles?: number | undefined;
  /** A larger file is skipped with reason 'file_too_large'. Default 10 MiB. */
  maxFileBytes?: number | undefined;
  /** Bytes kept over all files; a file that does not fit is skipped. Default 50 MiB. */
  maxTotalBytes?: number | undefined;
  /**
   * Relative paths (a file, or a directory and all under it) never listed, such as the snippet's
   * code file. runbox's own directory (`.runbox`, with the result file) is always excluded.
   */
  exclude?: readonly string[] | undefined;
  /** Workspace entries looked at, at most. Default 20,000. */
  maxScannedEntries?: number | undefined;
}

function limit(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new ArtifactOptionsError(`${name} must be a whole number >= 0, got ${String(value)}`);
  }
  return value;
}

function isExcluded(path: string, excluded: readonly string[]): boolean {
  return excluded.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

class OverCapError extends Error {}

/**
 * Copies one regular file, hashing it on the way. The source is opened without following links;
 * the copy is created with O_EXCL | O_NOFOLLOW, so it can never land anywhere but where asked.
 */
async function copyFile(
  source: Awaited<ReturnType<typeof openWorkspaceReadStream>>,
  destination: string,
  maxBytes: number,
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  await mkdir(dirname(destination), { recursive: true, mode: 0o700 });
  const out = await open(
    destination,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o600,
  );
  try {
    await pipeline(
      source.stream,
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          size += chunk.length;
          if (size > maxBytes) throw new OverCapError();
          hash.update(chunk);
          yield chunk;
        }
      },
      out.createWriteStream(),
    );
  } catch (error) {
    source.stream.destroy();
    await out.close().catch(() => {});
    await rm(destination, { force: true });
    throw error;
  }
  return { size, sha256: hash.digest('hex') };
}

/**
 * Lists what a finished run created or changed in its workspace (nothing is followed: a link is
 * listed as a link), and copies each such regular file into destinationDir, within the caps.
 * The workspace itself is left as it is; the caller removes it.
 */
export async function collectArtifacts(
  options: CollectArtifactsOptions,
): Promise<ArtifactCollection> {
  const maxFiles = limit('maxFiles', options.maxFiles, 100);
  const maxFileBytes = limit('maxFileBytes', options.maxFileBytes, 10 * MiB);
  const maxTotalBytes = limit('maxTotalBytes', options.maxTotalBytes, 50 * MiB);
  const maxScanned = limit('maxScannedEntries', options.maxScannedEntries, 20_000);
  const excluded = [RUNBOX_DIR, ...(options.exclude ?? [])];
  const { workspaceDir, destinationDir } = options;

  const scan = await scanWorkspace(workspaceDir, { maxEntries: maxScanned });
  const artifacts: Artifact[] = [];
  const skipped: SkippedArtifact[] = [];
  let truncated = scan.truncated;
  let totalBytes = 0;

  const skip = (path: string, reason: ArtifactSkipReason, size: number | null): void => {
    if (skipped.length >= maxFiles) truncated = true;
    else skipped.push({ path, reason, size });
  };

  for (const passed of scan.skipped) skip(passed.path, passed.reason, null);
  await mkdir(destinationDir, { recursive: true, mode: 0o700 });

  for (const entry of scan.entries) {
    if (entry.kind === 'directory' || isExcluded(entry.path, excluded)) continue;
    if (!isCreatedOrChanged(options.before, entry)) continue;
    if (entry.path.length > MAX_ARTIFACT_PATH) {
      skip(entry.path.slice(0, MAX_ARTIFACT_PATH), 'too_deep', null);
      continue;
    }
    if (entry.kind === 'other') {
      skip(entry.path, 'not_a_regular_file', null);
      continue;
    }
    if (artifacts.length >= maxFiles) {
      truncated = true;
      break;
    }

    if (entry.kind === 'symlink') {
      try {
        const linkTarget = await readWorkspaceLink(workspaceDir, entry.path);
        artifacts.push({
          path: entry.path,
          kind: 'symlink',
          size: 0,
          sha256: null,
          mediaType: 'inode/symlink',
          linkTarget,
        });
      } catch {
        skip(entry.path, 'unreadable', null);
      }
      continue;
    }

    let source: Awaited<ReturnType<typeof openWorkspaceReadStream>>;
    try {
      source = await openWorkspaceReadStream(workspaceDir, entry.path);
    } catch {
      skip(entry.path, 'unreadable', entry.size);
      continue;
    }
    if (source.size > maxFileBytes) {
      source.stream.destroy();
      skip(entry.path, 'file_too_large', source.size);
      continue;
    }
    if (totalBytes + source.size > maxTotalBytes) {
      source.stream.destroy();
      skip(entry.path, 'total_too_large', source.size);
      continue;
    }
    try {
      const copied = await copyFile(
        source,
        join(destinationDir, ...entry.path.split('/')),
        Math.min(maxFileBytes, maxTotalBytes - totalBytes),
      );
      totalBytes += copied.size;
      artifacts.push({
        path: entry.path,
        kind: 'file',
        size: copied.size,
        sha256: copied.sha256,
        mediaType: mediaTypeOf(entry.path),
      });
    } catch (error) {
      // Only a file that grew while it was copied; a failure to write the copy is runbox's own.
      if (!(error instanceof OverCapError)) throw error;
      skip(entry.path, 'file_too_large', null);
    }
  }

  return { artifacts, skipped, truncated };
}
