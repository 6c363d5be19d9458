// @ts-check
import { parseArgs } from 'node:util';
import { UsageError } from './errors.mjs';

/**
 * A command's options and positionals, with util.parseArgs (strict: an unknown option is a
 * UsageError naming it). Arguments after the first `--` are the program's, kept apart.
 */

/**
 * @typedef {{ type: 'string' | 'boolean'; multiple?: boolean; short?: string }} OptionSpec
 */

/**
 * What parseArgs gives for each option: a string, a boolean, or a list of them.
 * @template {Record<string, OptionSpec>} T
 * @typedef {{
 *   [K in keyof T]?: T[K]['multiple'] extends true
 *     ? T[K]['type'] extends 'string' ? string[] : boolean[]
 *     : T[K]['type'] extends 'string' ? string : boolean;
 * }} OptionValues
 */

/**
 * @template {Record<string, OptionSpec>} T
 * @param {string} command
 * @param {string[]} argv the arguments after the command's name
 * @param {T} options
 * @param {{ positionals: number }} expected how many positionals the command takes
 */
export function parseCommandArgs(command, argv, options, expected) {
  const dashes = argv.indexOf('--');
  const own = dashes < 0 ? argv : argv.slice(0, dashes);
  const rest = dashes < 0 ? null : argv.slice(dashes + 1);
  let parsed;
  try {
    parsed = parseArgs({
      args: own,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(describeParseError(error), command);
  }
  const { help, ...values } = /** @type {Record<string, unknown>} */ (parsed.values);
  if (!help && parsed.positionals.length !== expected.positionals) {
    const wanted = expected.positionals === 1 ? 'one argument' : 'no arguments';
    throw new UsageError(
      `${command} takes ${wanted}, got ${parsed.positionals.length}` +
        (parsed.positionals.length > 0 ? `: ${parsed.positionals.join(' ')}` : ''),
      command,
    );
  }
  return {
    help: help === true,
    values: /** @type {OptionValues<T>} */ (/** @type {unknown} */ (values)),
    positionals: parsed.positionals,
    rest,
  };
}

/**
 * `--limit wallTimeMs=5000 --limit memoryBytes=268435456,cpus=1` as a limits object. Values are
 * numbers; which names exist and their ranges are the server's to check.
 * @param {string[] | undefined} items
 * @returns {Record<string, number> | undefined}
 */
export function parseLimits(items) {
  if (!items || items.length === 0) return undefined;
  /** @type {Record<string, number>} */
  const limits = {};
  for (const pair of items.flatMap((item) => item.split(','))) {
    const match = /^\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(pair);
    const value = match?.[2] === undefined ? NaN : Number(match[2]);
    if (!match?.[1] || !Number.isFinite(value)) {
      throw new UsageError(`--limit wants name=number (wallTimeMs=5000), got "${pair}"`, 'run');
    }
    limits[match[1]] = value;
  }
  return limits;
}

/**
 * parseArgs's message for an unknown option suggests `--`, which here starts the program's
 * arguments; name the option plainly instead.
 * @param {unknown} error
 */
function describeParseError(error) {
  const message = error instanceof Error ? error.message : String(error);
  const code = /** @type {{ code?: unknown }} */ (error)?.code;
  const option = /'([^']+)'/.exec(message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `unknown option ${option}`;
  return message;
}
