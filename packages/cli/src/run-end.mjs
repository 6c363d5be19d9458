// @ts-check
import { formatDuration } from './live-printer.mjs';

/** @import { ApiClient } from './api-client.mjs' */
/** @import { RunEnd, RunOutputView, RunView } from './run-types.mjs' */

/**
 * A run's end, as the CLI reports it, and the ways to wait for it.
 */

/**
 * The line stderr gets about a run that did not complete: "run abc timed_out after 5.0 s".
 * @param {string} runId
 * @param {RunEnd} end
 */
export function endLine(runId, end) {
  const parts = [`run ${runId} ${end.state}`];
  if (end.exitCode !== null) parts.push(`exit code ${end.exitCode}`);
  if (end.signal !== null) parts.push(`signal ${end.signal}`);
  if (end.durationMs !== null) parts.push(`after ${formatDuration(end.durationMs)}`);
  const detail = end.error ? `: ${end.error.replace(/\s*\n\s*/g, ' ')}` : '';
  return `${parts.join(', ')}${detail}`;
}

/**
 * The run with its output once it has ended (`GET /runs/{id}/output?wait=true`, asked again
 * while the server's wait runs out first).
 * @param {ApiClient} client
 * @param {string} runId
 * @param {AbortSignal} [signal]
 * @returns {Promise<RunOutputView>}
 */
export async function waitForOutput(client, runId, signal) {
  for (;;) {
    const answer = await client.call(
      'GET',
      `/runs/${encodeURIComponent(runId)}/output?wait=true`,
      signal ? { signal } : {},
    );
    const output = /** @type {RunOutputView} */ (answer.body);
    if (output.ended) return output;
  }
}

/**
 * @param {ApiClient} client
 * @param {string} runId
 * @returns {Promise<RunView>}
 */
export async function getRun(client, runId) {
  const answer = await client.call('GET', `/runs/${encodeURIComponent(runId)}`);
  return /** @type {RunView} */ (answer.body);
}
