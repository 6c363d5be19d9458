// @ts-check

/**
 * The shapes the REST API sends that the CLI reads (docs/rest.md; the server's schemas are in
 * packages/api/src/schemas/run-views.ts and packages/api/src/rest/run-event-schema.ts). Only the
 * fields the CLI uses are named; the rest pass through to --json untouched.
 */

/**
 * @typedef {{
 *   state: string;
 *   exitCode: number | null;
 *   signal: string | null;
 *   durationMs: number | null;
 *   error: string | null;
 * }} RunEnd
 */

/** @typedef {RunEnd & { durationMs: number }} RunResult the `end` event's result */

/**
 * @typedef {{ seq: number; at: number } & (
 *   | { type: 'state'; state: string }
 *   | { type: 'position'; position: number; running: number; concurrency: number; estimatedWaitMs: number }
 *   | { type: 'output'; stream: 'stdout' | 'stderr'; text: string; partial: boolean; continuation: boolean }
 *   | { type: 'usage'; cpuMs: number; memoryBytes: number }
 *   | { type: 'truncated'; reason: string; limit: number; droppedBytes: number }
 *   | { type: 'end'; result: RunResult }
 * )} RunEvent
 */

/**
 * @typedef {RunEnd & {
 *   id: string;
 *   kind: 'snippet' | 'tool';
 *   language: string | null;
 *   toolId: string | null;
 *   projectId: string | null;
 *   queuedAt: number;
 *   startedAt: number | null;
 *   finishedAt: number | null;
 *   position: number | null;
 *   estimatedWaitMs: number | null;
 *   usage: { cpuMs: number; peakMemoryBytes: number } | null;
 * }} RunView a run as `GET /runs/{id}` shows it
 */

/**
 * @typedef {RunView & {
 *   ended: boolean;
 *   stdout: string;
 *   stderr: string;
 *   stdoutBytes: number;
 *   stderrBytes: number;
 *   stdoutTruncated: boolean;
 *   stderrTruncated: boolean;
 *   lastEventId: number;
 * }} RunOutputView a run with its output, as `GET /runs/{id}/output` shows it
 */

export {};
