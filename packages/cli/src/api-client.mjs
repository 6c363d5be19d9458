// @ts-check
/* global fetch -- Node's own (undici), which no node: module exports */
import { NetworkError, ProtocolError, ServerError } from './errors.mjs';
import { CLI_VERSION } from './version.mjs';

/** @import { RestErrorObject } from './errors.mjs' */

/**
 * Calls of runbox's REST API (`/api/v1`, docs/rest.md) with fetch: plain JSON in and out, the
 * API key as a bearer, and the server's error object turned into a ServerError.
 */

export const DEFAULT_URL = 'http://localhost:3000';

/**
 * @typedef {{
 *   json?: unknown;
 *   form?: FormData;
 *   headers?: Record<string, string>;
 *   signal?: AbortSignal;
 * }} RequestOptions
 */

/**
 * @typedef {{ status: number; headers: Headers; body: unknown }} Answer
 */

export class ApiClient {
  /** @type {string | null} */
  #ownerCookie = null;

  /**
   * @param {{ url: string; apiKey: string | null }} options
   */
  constructor(options) {
    /** The server's base URL, without a trailing slash. */
    this.url = options.url.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
  }

  /**
   * The client the environment names: RUNBOX_URL (default http://localhost:3000) and
   * RUNBOX_API_KEY (none: anonymous, where the server allows it).
   * @param {NodeJS.ProcessEnv} env
   */
  static fromEnv(env) {
    const apiKey = env.RUNBOX_API_KEY?.trim() || null;
    return new ApiClient({ url: env.RUNBOX_URL?.trim() || DEFAULT_URL, apiKey });
  }

  /**
   * The absolute URL of an API path (`/runs/abc`).
   * @param {string} path
   */
  urlOf(path) {
    return `${this.url}/api/v1${path}`;
  }

  /**
   * One call; answers 2xx (with the body as JSON, null when empty), throws ServerError otherwise.
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<Answer>}
   */
  async call(method, path, options = {}) {
    const response = await this.send(method, path, options);
    const text = await readText(response, this.urlOf(path));
    if (!response.ok) throw errorOfAnswer(response, text, this.urlOf(path));
    if (text === '') return { status: response.status, headers: response.headers, body: null };
    try {
      return { status: response.status, headers: response.headers, body: JSON.parse(text) };
    } catch {
      throw new ProtocolError(
        `${response.status} from ${this.urlOf(path)} is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  /**
   * The raw answer of a call whose body the caller reads itself (an event stream). A non-2xx
   * answer is turned into a ServerError here.
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} [options]
   * @returns {Promise<Response>}
   */
  async open(method, path, options = {}) {
    const response = await this.send(method, path, options);
    if (response.ok) return response;
    throw errorOfAnswer(response, await readText(response, this.urlOf(path)), this.urlOf(path));
  }

  /**
   * @param {string} method
   * @param {string} path
   * @param {RequestOptions} options
   * @returns {Promise<Response>}
   */
  async send(method, path, options) {
    const url = this.urlOf(path);
    /** @type {Record<string, string>} */
    const headers = { 'user-agent': `runbox-cli/${CLI_VERSION}`, ...options.headers };
    if (this.apiKey !== null) headers.authorization = `Bearer ${this.apiKey}`;
    // Without a key the server makes an anonymous owner and names it in a cookie; sending it back
    // keeps this invocation's run ours (a later invocation is a new owner: use a key for that).
    else if (this.#ownerCookie !== null) headers.cookie = this.#ownerCookie;
    /** @type {string | FormData | undefined} */
    let body;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form !== undefined) {
      body = options.form;
    }
    let response;
    try {
      response = await fetch(url, {
        method,
        headers,
        ...(body !== undefined ? { body } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new NetworkError(url, error);
    }
    this.#keepOwnerCookie(response.headers);
    return response;
  }

  /** @param {Headers} headers */
  #keepOwnerCookie(headers) {
    for (const cookie of headers.getSetCookie()) {
      const pair = cookie.split(';', 1)[0] ?? '';
      if (pair.startsWith('runbox_owner=')) this.#ownerCookie = pair;
    }
  }
}

/**
 * @param {Response} response
 * @param {string} url
 */
async function readText(response, url) {
  try {
    return await response.text();
  } catch (error) {
    throw new NetworkError(url, error);
  }
}

/**
 * The ServerError of a non-2xx answer: the server's error object when the body is one, else the
 * status and the start of whatever came (a proxy's error page).
 * @param {Response} response
 * @param {string} text
 * @param {string} url
 * @returns {ServerError | ProtocolError}
 */
function errorOfAnswer(response, text, url) {
  const retryAfter = response.headers.get('retry-after');
  try {
    const parsed = /** @type {{ error?: unknown }} */ (JSON.parse(text));
    const error = parsed.error;
    if (
      typeof error === 'object' &&
      error !== null &&
      typeof (/** @type {{ code?: unknown }} */ (error).code) === 'string' &&
      typeof (/** @type {{ message?: unknown }} */ (error).message) === 'string'
    ) {
      return new ServerError(response.status, /** @type {RestErrorObject} */ (error), retryAfter);
    }
  } catch {
    // not JSON: below
  }
  const body = text.trim().slice(0, 200);
  return new ProtocolError(
    `${response.status} ${response.statusText} from ${url}${body ? `: ${body}` : ''}`,
  );
}
