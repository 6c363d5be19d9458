// @ts-check
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { LocalInputError } from './errors.mjs';
import { writeTar } from './tar.mjs';

/** @import { TarEntry } from './tar.mjs' */

/**
 * Packs a folder (or one file) as a tar.gz for `POST /api/v1/projects`, in memory. The server
 * decides what it accepts (its size, file-count, path and entry-type limits) and names the
 * entry and the rule it refuses; the CLI packs what is there, symbolic links as links, so a
 * refusal comes from the one place that knows the limits.
 */

/** Folders never packed: a repository's history is not part of the project. */
const SKIPPED_DIRECTORIES = new Set(['.git']);

/**
 * More than any server takes (RUNBOX_UPLOAD_MAX_BYTES is at most 1 GiB): stop reading rather
 * than hold it all in memory.
 */
export const MAX_PACKED_BYTES = 1024 * 1024 * 1024;

/**
 * @typedef {{ archive: Buffer; files: number; bytes: number }} PackedProject
 */

/**
 * The folder's files, directories and symbolic links as a tar.gz, paths relative to it.
 * @param {string} folder
 * @returns {Promise<PackedProject>}
 */
export async function packFolder(folder) {
  /** @type {TarEntry[]} */
  const entries = [];
  const tally = { files: 0, bytes: 0 };
  await addFolder(folder, '', entries, tally);
  return { archive: gzipSync(writeTar(entries)), ...tally };
}

/**
 * One file as a tar.gz holding it under its own name.
 * @param {string} file
 * @returns {Promise<PackedProject>}
 */
export async function packFile(file) {
  /** @type {TarEntry[]} */
  const entries = [];
  const tally = { files: 0, bytes: 0 };
  await addEntry(file, basename(file), entries, tally);
  return { archive: gzipSync(writeTar(entries)), ...tally };
}

/**
 * @param {string} dir
 * @param {string} relative '' for the root, else `a/b`
 * @param {TarEntry[]} entries
 * @param {{ files: number; bytes: number }} tally
 */
async function addFolder(dir, relative, entries, tally) {
  let names;
  try {
    names = (await readdir(dir)).sort();
  } catch (error) {
    throw new LocalInputError(`cannot read the folder ${dir}: ${messageOf(error)}`);
  }
  for (const name of names) {
    await addEntry(join(dir, name), relative === '' ? name : `${relative}/${name}`, entries, tally);
  }
}

/**
 * @param {string} path
 * @param {string} relative
 * @param {TarEntry[]} entries
 * @param {{ files: number; bytes: number }} tally
 */
async function addEntry(path, relative, entries, tally) {
  let stats;
  try {
    stats = await lstat(path);
  } catch (error) {
    throw new LocalInputError(`cannot read ${path}: ${messageOf(error)}`);
  }
  const common = { path: relative, mode: stats.mode, mtimeMs: stats.mtimeMs };
  if (stats.isDirectory()) {
    if (SKIPPED_DIRECTORIES.has(basename(path))) return;
    entries.push({ ...common, type: 'directory' });
    await addFolder(path, relative, entries, tally);
  } else if (stats.isFile()) {
    tally.bytes += stats.size;
    if (tally.bytes > MAX_PACKED_BYTES) {
      throw new LocalInputError(
        `the folder holds more than ${MAX_PACKED_BYTES} bytes, more than any runbox server takes`,
      );
    }
    let data;
    try {
      data = await readFile(path);
    } catch (error) {
      throw new LocalInputError(`cannot read ${path}: ${messageOf(error)}`);
    }
    tally.files++;
    entries.push({ ...common, type: 'file', data });
  } else if (stats.isSymbolicLink()) {
    // Sent as a link: the server refuses links (rule `symlink`) and says which one.
    entries.push({ ...common, type: 'symlink', linkTarget: await readlink(path) });
  } else {
    throw new LocalInputError(`cannot upload ${path}: ${kindOf(stats)}; only files and folders`);
  }
}

/** @param {import('node:fs').Stats} stats */
function kindOf(stats) {
  if (stats.isFIFO()) return 'a named pipe';
  if (stats.isSocket()) return 'a socket';
  return 'a device file';
}

/** @param {unknown} error */
function messageOf(error) {
  return error instanceof Error ? error.message : String(error);
}
