// @ts-check
import { EXIT } from './exit-codes.mjs';

/**
 * The CLI's errors. Each knows the exit code it ends the CLI with and prints as one line, so a
 * script reading stderr gets one line per failure.
 */

/**
 * The error object of a REST error answer: `{ error: { code, message, field, rule, ... } }`.
 * @typedef {{
 *   code: string;
 *   message: string;
 *   field?: string | null;
 *   rule?: string | null;
 *   [detail: string]: unknown;
 * }} RestErrorObject
 */

/** Details worth a place on the one line, besides code, field and rule. */
const DETAILS = ['entry', 'line', 'limit', 'min', 'max', 'maxBytes', 'kind', 'queueLength'];

export class CliError extends Error {
  /** @type {number} */
  exitCode = EXIT.failure;

  /** The one line printed for it (without the `runbox-cli: ` prefix). */
  line() {
    return oneLine(this.message);
  }
}

/** The command line is wrong: an unknown option, a missing argument. Exit 2. */
export class UsageError extends CliError {
  /** @param {string} message @param {string} [command] the command whose --help to point at */
  constructor(message, command) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = EXIT.refused;
    this.command = command;
  }

  /** @override */
  line() {
    const help = this.command ? `runbox-cli ${this.command} --help` : 'runbox-cli --help';
    return `${oneLine(this.message)} (see ${help})`;
  }
}

/** A local file or folder that cannot be read or packed. Exit 2. */
export class LocalInputError extends CliError {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'LocalInputError';
    this.exitCode = EXIT.refused;
  }
}

/**
 * The server answered with an error. A 4xx is a refusal (exit 2); a 5xx is the server's own
 * failure (exit 1).
 */
export class ServerError extends CliError {
  /**
   * @param {number} status the HTTP status; 0 for an `error` event mid-stream
   * @param {RestErrorObject} error
   * @param {string | null} retryAfter the Retry-After header, when the answer had one
   */
  constructor(status, error, retryAfter = null) {
    super(error.message);
    this.name = 'ServerError';
    this.status = status;
    this.error = error;
    this.retryAfter = retryAfter;
    this.exitCode = status >= 400 && status < 500 ? EXIT.refused : EXIT.failure;
  }

  /** @override */
  line() {
    const parts = [];
    if (this.error.field) parts.push(`field ${this.error.field}`);
    if (this.error.rule) parts.push(`rule ${this.error.rule}`);
    for (const name of DETAILS) {
      const value = this.error[name];
      if (typeof value === 'string' || typeof value === 'number') parts.push(`${name} ${value}`);
    }
    if (this.retryAfter !== null) parts.push(`retry after ${this.retryAfter} s`);
    const where = parts.length > 0 ? ` (${parts.join(', ')})` : '';
    // Status 0: an error the event stream sent after it had started (no status of its own).
    const status = this.status > 0 ? `${this.status} ` : '';
    return `${status}${this.error.code}${where}: ${oneLine(this.error.message)}`;
  }
}

/** The server could not be reached, or the connection broke. Names the URL. Exit 1. */
export class NetworkError extends CliError {
  /** @param {string} url @param {unknown} cause */
  constructor(url, cause) {
    super(`cannot reach ${url}: ${describeCause(cause)}`, { cause });
    this.name = 'NetworkError';
    this.url = url;
  }
}

/** An answer that is not what the REST API sends (a proxy's page, a truncated body). Exit 1. */
export class ProtocolError extends CliError {
  /** @param {string} message */
  constructor(message) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** @param {string} text */
function oneLine(text) {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/**
 * fetch's "fetch failed" says nothing; the reason is in its cause (ECONNREFUSED, ENOTFOUND, ...).
 * @param {unknown} cause
 * @returns {string}
 */
function describeCause(cause) {
  if (!(cause instanceof Error)) return String(cause);
  const inner = /** @type {{ cause?: unknown; code?: unknown }} */ (cause).cause;
  if (inner instanceof Error) return describeCause(inner);
  const code = /** @type {{ code?: unknown }} */ (cause).code;
  if (typeof code === 'string' && !cause.message.includes(code)) return `${code}: ${cause.message}`;
  return cause.message;
}
