import type { ReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { openWorkspaceReadStream } from '../sandbox/safe-read-stream.ts';
import { ArtifactNotFoundError, InvalidArtifactPathError } from './artifact-errors.ts';
import {
  collectArtifacts,
  type ArtifactCollection,
  type CollectArtifactsOptions,
} from './collect-artifacts.ts';

/**
 * Where kept artifacts live on the host, one directory per run:
 *
 *     <root>/<runId>/manifest.json   the ArtifactCollection, as collected
 *     <root>/<runId>/files/<path>    the copies of the regular files
 *
 * Only listed files are ever served, and only through the same no-follow reader a workspace gets.
 */

const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;
const MANIFEST = 'manifest.json';
const FILES = 'files';
const MAX_PATH_LENGTH = 4096;

const manifestSchema: z.ZodType<ArtifactCollection> = z.object({
  artifacts: z.array(
    z.object({
      path: z.string(),
      kind: z.enum(['file', 'symlink']),
      size: z.number(),
      sha256: z.string().nullable(),
      mediaType: z.string(),
      linkTarget: z.string().optional(),
    }),
  ),
  skipped: z.array(
    z.object({
      path: z.string(),
      reason: z.enum([
        'file_too_large',
        'total_too_large',
        'not_a_regular_file',
        'unreadable_name',
        'too_deep',
        'unreadable',
      ]),
      size: z.number().nullable(),
    }),
  ),
  truncated: z.boolean(),
});

function runDir(root: string, runId: string): string {
  if (!RUN_ID.test(runId)) {
    throw new InvalidArtifactPathError(runId, 'a run id is 1 to 128 letters, digits, _ or -');
  }
  return join(root, runId);
}

/** Checks a path that came from outside: relative, plain names, nothing that climbs. */
function checkArtifactPath(path: string): void {
  if (path.length === 0 || path.length > MAX_PATH_LENGTH) {
    throw new InvalidArtifactPathError(path, `must be 1 to ${MAX_PATH_LENGTH} characters`);
  }
  if (path.includes('\0')) throw new InvalidArtifactPathError(path, 'contains a NUL byte');
  if (path.startsWith('/')) throw new InvalidArtifactPathError(path, 'must be relative');
  if (path.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new InvalidArtifactPathError(path, 'must be plain names joined by "/", without . or ..');
  }
}

/** The directory a run's files are copied into: `<root>/<runId>/files`. */
export function artifactFilesDir(root: string, runId: string): string {
  return join(runDir(root, runId), FILES);
}

export interface StoreArtifactsOptions extends Omit<CollectArtifactsOptions, 'destinationDir'> {
  /** The store's root on the host. */
  root: string;
  runId: string;
}

/**
 * Collects a finished run's artifacts into the store and records the list. Anything stored before
 * under the same run id is replaced.
 */
export async function storeArtifacts(options: StoreArtifactsOptions): Promise<ArtifactCollection> {
  const { root, runId, ...collect } = options;
  const dir = runDir(root, runId);
  await mkdir(root, { recursive: true, mode: 0o700 });
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  const collection = await collectArtifacts({ ...collect, destinationDir: join(dir, FILES) });
  const partial = join(dir, `${MANIFEST}.partial`);
  await writeFile(partial, JSON.stringify(collection), { mode: 0o600, flag: 'wx' });
  await rename(partial, join(dir, MANIFEST));
  return collection;
}

/** The list a run's artifacts were stored with, or null when none were stored. */
export async function readArtifactList(
  root: string,
  runId: string,
): Promise<ArtifactCollection | null> {
  let text: string;
  try {
    text = await readFile(join(runDir(root, runId), MANIFEST), 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
  return manifestSchema.parse(JSON.parse(text));
}

export interface OpenedArtifact {
  /** The file's bytes; destroy it when not read to the end. */
  stream: ReadStream;
  size: number;
  mediaType: string;
  sha256: string;
}

/**
 * Opens a kept file for download. The path must be a plain relative path and a listed regular
 * file of that run: a link is listed but never served, and nothing unlisted is ever opened.
 */
export async function openArtifact(
  root: string,
  runId: string,
  path: string,
): Promise<OpenedArtifact> {
  checkArtifactPath(path);
  const list = await readArtifactList(root, runId);
  const artifact = list?.artifacts.find((candidate) => candidate.path === path);
  if (!artifact) throw new ArtifactNotFoundError(runId, path);
  if (artifact.kind !== 'file' || artifact.sha256 === null) {
    throw new ArtifactNotFoundError(runId, path, 'a symbolic link is listed, never served');
  }
  try {
    const { stream, size } = await openWorkspaceReadStream(artifactFilesDir(root, runId), path);
    return { stream, size, mediaType: artifact.mediaType, sha256: artifact.sha256 };
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') {
      throw new ArtifactNotFoundError(runId, path, 'the stored copy is gone');
    }
    throw error;
  }
}

/** Removes everything kept for a run; nothing there is not an error. */
export async function removeArtifacts(root: string, runId: string): Promise<void> {
  await rm(runDir(root, runId), { recursive: true, force: true });
}
