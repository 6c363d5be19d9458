// @ts-check
import { parseCommandArgs } from '../args.mjs';
import { EXIT } from '../exit-codes.mjs';
import { HELP } from '../help.mjs';
import { formatDuration } from '../live-printer.mjs';
import { getRun } from '../run-end.mjs';

/** @import { CommandContext } from '../context.mjs' */
/** @import { RunView } from '../run-types.mjs' */

/**
 * `runbox-cli status <id>`: the run as `GET /runs/{id}` shows it, as aligned lines or --json.
 * @param {string[]} argv
 * @param {CommandContext} context
 * @returns {Promise<number>}
 */
export async function statusCommand(argv, context) {
  const args = parseCommandArgs('status', argv, { json: { type: 'boolean' } }, { positionals: 1 });
  if (args.help) {
    context.stdout.write(`${HELP.status}\n`);
    return EXIT.ok;
  }
  const run = await getRun(context.client, /** @type {string} */ (args.positionals[0]));
  context.stdout.write(args.values.json ? `${JSON.stringify(run, null, 2)}\n` : describeRun(run));
  return EXIT.ok;
}

/**
 * @param {RunView} run
 * @returns {string}
 */
export function describeRun(run) {
  /** @type {[string, string][]} */
  const rows = [
    ['id', run.id],
    ['state', run.state],
    [
      'what',
      run.kind === 'snippet'
        ? `snippet (${run.language ?? '?'})`
        : `tool ${run.toolId ?? '?'}${run.projectId ? ` on project ${run.projectId}` : ''}`,
    ],
  ];
  if (run.position !== null) {
    const wait = run.estimatedWaitMs ? `, about ${formatDuration(run.estimatedWaitMs)}` : '';
    rows.push(['position', `${run.position}${wait}`]);
  }
  if (run.exitCode !== null) rows.push(['exit code', String(run.exitCode)]);
  if (run.signal !== null) rows.push(['signal', run.signal]);
  rows.push(['queued', new Date(run.queuedAt).toISOString()]);
  if (run.startedAt !== null) rows.push(['started', new Date(run.startedAt).toISOString()]);
  if (run.finishedAt !== null) rows.push(['finished', new Date(run.finishedAt).toISOString()]);
  if (run.durationMs !== null) rows.push(['duration', formatDuration(run.durationMs)]);
  if (run.usage !== null) {
    const mib = (run.usage.peakMemoryBytes / (1024 * 1024)).toFixed(1);
    rows.push(['usage', `${run.usage.cpuMs} ms CPU, ${mib} MiB peak memory`]);
  }
  if (run.error) rows.push(['error', run.error.replace(/\s*\n\s*/g, ' ')]);
  const width = Math.max(...rows.map(([name]) => name.length));
  return rows.map(([name, value]) => `${name.padEnd(width)}  ${value}\n`).join('');
}
