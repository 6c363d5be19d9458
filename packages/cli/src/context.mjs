// @ts-check

/** @import { Readable } from 'node:stream' */
/** @import { ApiClient } from './api-client.mjs' */
/** @import { TextSink } from './live-printer.mjs' */

/**
 * What a command works with: the server's client, the three streams, Ctrl-C, and a way out
 * (the bin passes the process's own; everything a command prints goes through these).
 * @typedef {{
 *   client: ApiClient;
 *   stdout: TextSink;
 *   stderr: TextSink;
 *   stdin: Readable;
 *   signals: {
 *     on(signal: 'SIGINT', listener: () => void): unknown;
 *     off(signal: 'SIGINT', listener: () => void): unknown;
 *   };
 *   exit(code: number): void;
 * }} CommandContext
 */

export {};
