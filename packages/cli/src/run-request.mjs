// @ts-check
/* global FormData -- Node's own (undici), which no node: module exports */
import { Blob, Buffer } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { LocalInputError, ProtocolError, UsageError } from './errors.mjs';
import { packFile, packFolder } from './pack.mjs';

/** @import { ApiClient } from './api-client.mjs' */
/** @import { Readable } from 'node:stream' */

/**
 * The body of `POST /api/v1/runs` for `runbox-cli run`: a snippet from a file, or a tool run on
 * a project uploaded from a folder (or one file) first.
 */

/** The languages a file's extension names. */
const LANGUAGE_OF_EXTENSION = Object.freeze({
  '.py': 'python',
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.sh': 'bash',
  '.bash': 'bash',
});

/**
 * @typedef {{
 *   target: string;
 *   lang?: string | undefined;
 *   tool?: string | undefined;
 *   entry?: string | undefined;
 *   environment?: string | undefined;
 *   stdin?: string | undefined;
 *   limits?: Record<string, number> | undefined;
 *   args?: string[] | null | undefined;
 * }} RunRequestOptions
 */

/**
 * @typedef {{
 *   client: ApiClient;
 *   stdin: Readable;
 *   onUpload?: (files: number, bytes: number) => void;
 * }} RunRequestContext
 */

/**
 * The body for `POST /runs`; uploads the project first for a tool run.
 * @param {RunRequestOptions} options
 * @param {RunRequestContext} context
 * @returns {Promise<Record<string, unknown>>}
 */
export async function buildRunBody(options, context) {
  if (options.lang !== undefined && options.tool !== undefined) {
    throw new UsageError('give --lang (a snippet) or --tool (a project), not both', 'run');
  }
  const kind = await kindOf(options.target);
  /** @type {Record<string, unknown>} */
  const extra = {};
  if (options.stdin !== undefined) extra.stdin = await readStdin(options.stdin, context.stdin);
  if (options.limits !== undefined) extra.limits = options.limits;
  // Sent only when given, as every field a server might not know.
  if (options.environment !== undefined) extra.environment = options.environment;
  // Sent only when given: a server without the field refuses it by name (unrecognized_keys).
  if (options.args !== null && options.args !== undefined) extra.args = options.args;

  if (kind === 'file' && options.tool === undefined) {
    const language = options.lang ?? languageOfFile(options.target);
    const code = await readFile(options.target, 'utf8');
    // A snippet's entry is the name its code runs as (a server without the field refuses it).
    const entry = options.entry !== undefined ? { entry: options.entry } : {};
    return { kind: 'snippet', language, code, ...entry, ...extra };
  }
  if (options.lang !== undefined) {
    throw new UsageError('--lang is for a file; a folder runs with a tool (--tool)', 'run');
  }
  const toolId = options.tool ?? (await toolOfFolder(options.target));
  const packed =
    kind === 'folder' ? await packFolder(options.target) : await packFile(options.target);
  context.onUpload?.(packed.files, packed.archive.length);
  const form = new FormData();
  const name = basename(options.target.replace(/\/+$/, '')) || 'project';
  form.append('archive', new Blob([packed.archive]), `${name}.tar.gz`);
  form.append('name', name);
  const upload = await context.client.call('POST', '/projects', { form });
  const projectId = /** @type {{ id?: unknown }} */ (upload.body)?.id;
  if (typeof projectId !== 'string') throw new ProtocolError('the upload answered no project id');
  const entry = options.entry ?? (kind === 'file' ? basename(options.target) : undefined);
  return { kind: 'tool', toolId, projectId, ...(entry !== undefined ? { entry } : {}), ...extra };
}

/**
 * @param {string} target
 * @returns {Promise<'file' | 'folder'>}
 */
async function kindOf(target) {
  let stats;
  try {
    stats = await stat(target);
  } catch (error) {
    throw new LocalInputError(`cannot run ${target}: ${messageOf(error)}`);
  }
  if (stats.isDirectory()) return 'folder';
  if (stats.isFile()) return 'file';
  throw new LocalInputError(`cannot run ${target}: not a file or a folder`);
}

/** @param {string} file */
function languageOfFile(file) {
  const extension = /** @type {keyof typeof LANGUAGE_OF_EXTENSION} */ (extname(file).toLowerCase());
  const language = Object.hasOwn(LANGUAGE_OF_EXTENSION, extension)
    ? LANGUAGE_OF_EXTENSION[extension]
    : undefined;
  if (language === undefined) {
    throw new UsageError(
      `cannot tell the language of ${file} from its extension: give --lang (python, javascript, typescript, bash)`,
      'run',
    );
  }
  return language;
}

/**
 * The "tool" of the folder's runbox.json (as runbox's examples have), when --tool is not given.
 * @param {string} folder
 */
async function toolOfFolder(folder) {
  let text;
  try {
    text = await readFile(join(folder, 'runbox.json'), 'utf8');
  } catch {
    throw new UsageError(
      `name a tool with --tool to run the folder ${folder} (runbox-cli tools lists them)`,
      'run',
    );
  }
  let tool;
  try {
    tool = /** @type {{ tool?: unknown }} */ (JSON.parse(text)).tool;
  } catch (error) {
    throw new LocalInputError(`${join(folder, 'runbox.json')} is not JSON: ${messageOf(error)}`);
  }
  if (typeof tool !== 'string' || tool === '') {
    throw new UsageError(
      `${join(folder, 'runbox.json')} names no "tool": give --tool (runbox-cli tools lists them)`,
      'run',
    );
  }
  return tool;
}

/**
 * The run's stdin: a file's text, or this process's stdin to its end (`-`).
 * @param {string} source
 * @param {Readable} processStdin
 */
async function readStdin(source, processStdin) {
  if (source !== '-') {
    try {
      return await readFile(source, 'utf8');
    } catch (error) {
      throw new LocalInputError(`cannot read --stdin ${source}: ${messageOf(error)}`);
    }
  }
  /** @type {Buffer[]} */
  const chunks = [];
  for await (const chunk of processStdin) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : /** @type {Buffer} */ (chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** @param {unknown} error */
function messageOf(error) {
  if (/** @type {{ code?: unknown }} */ (error)?.code === 'ENOENT') return 'no such file or folder';
  return error instanceof Error ? error.message : String(error);
}
