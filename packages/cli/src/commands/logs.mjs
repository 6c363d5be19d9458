// @ts-check
import { Buffer } from 'node:buffer';
import { parseCommandArgs } from '../args.mjs';
import { EXIT, exitCodeOfRun } from '../exit-codes.mjs';
import { followRunEvents } from '../follow.mjs';
import { HELP } from '../help.mjs';
import { LivePrinter } from '../live-printer.mjs';
import { endLine, getRun, waitForOutput } from '../run-end.mjs';

/** @import { CommandContext } from '../context.mjs' */
/** @import { RunOutputView } from '../run-types.mjs' */

/**
 * `runbox-cli logs <id> [--follow]`: the run's output so far (`GET /runs/{id}/output`), or with
 * --follow every event from the first, live to the end, exiting with the run's exit code.
 * @param {string[]} argv
 * @param {CommandContext} context
 * @returns {Promise<number>}
 */
export async function logsCommand(argv, context) {
  const args = parseCommandArgs(
    'logs',
    argv,
    {
      follow: { type: 'boolean', short: 'f' },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
    { positionals: 1 },
  );
  if (args.help) {
    context.stdout.write(`${HELP.logs}\n`);
    return EXIT.ok;
  }
  const runId = /** @type {string} */ (args.positionals[0]);
  const { client } = context;
  const printer = new LivePrinter({
    stdout: context.stdout,
    stderr: context.stderr,
    quiet: args.values.quiet === true,
    positionsOffTerminal: false,
  });

  if (args.values.json) {
    const output = args.values.follow
      ? await waitForOutput(client, runId)
      : /** @type {RunOutputView} */ (
          (await client.call('GET', `/runs/${encodeURIComponent(runId)}/output`)).body
        );
    context.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
    return args.values.follow ? exitCodeOfRun(output) : EXIT.ok;
  }

  if (args.values.follow) {
    const result = await followRunEvents(client, runId, {
      onEvent: (event) => printer.onEvent(event),
      onRetry: (reason) => printer.note(`${reason}; resuming`),
    });
    const end = result ?? (await getRun(client, runId));
    if (end.state !== 'completed') printer.note(endLine(runId, end));
    return exitCodeOfRun(end);
  }

  const output = /** @type {RunOutputView} */ (
    (await client.call('GET', `/runs/${encodeURIComponent(runId)}/output`)).body
  );
  context.stdout.write(output.stdout);
  context.stderr.write(output.stderr);
  for (const stream of /** @type {const} */ (['stdout', 'stderr'])) {
    if (output[`${stream}Truncated`]) {
      printer.note(
        `${stream} cut at the server's cap: ${Buffer.byteLength(output[stream])} of ` +
          `${output[`${stream}Bytes`]} bytes shown (--follow prints it whole)`,
      );
    }
  }
  if (!output.ended) printer.note(`run ${runId} is ${output.state}; --follow prints the rest live`);
  return EXIT.ok;
}
