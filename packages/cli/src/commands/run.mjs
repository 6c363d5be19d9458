// @ts-check
import { setTimeout } from 'node:timers';
import { parseCommandArgs, parseLimits } from '../args.mjs';
import { CliError } from '../errors.mjs';
import { EXIT, exitCodeOfRun } from '../exit-codes.mjs';
import { followRunEvents } from '../follow.mjs';
import { HELP } from '../help.mjs';
import { Interruption } from '../interruption.mjs';
import { LivePrinter } from '../live-printer.mjs';
import { endLine, getRun, waitForOutput } from '../run-end.mjs';
import { buildRunBody } from '../run-request.mjs';

/** @import { CommandContext } from '../context.mjs' */
/** @import { RunView } from '../run-types.mjs' */

/** After a Ctrl-C has asked for the cancel, how long to wait for the run's end before leaving. */
const CANCEL_WAIT_MS = 10_000;

/**
 * `runbox-cli run <file|folder>`: creates the run (uploading the project first for a tool run),
 * follows its events live, and exits with its exit code.
 * @param {string[]} argv
 * @param {CommandContext} context
 * @returns {Promise<number>}
 */
export async function runCommand(argv, context) {
  const args = parseCommandArgs(
    'run',
    argv,
    {
      lang: { type: 'string' },
      tool: { type: 'string' },
      entry: { type: 'string' },
      environment: { type: 'string' },
      stdin: { type: 'string' },
      limit: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
    },
    { positionals: 1 },
  );
  if (args.help) {
    context.stdout.write(`${HELP.run}\n`);
    return EXIT.ok;
  }
  const options = args.values;
  const json = options.json === true;
  const printer = new LivePrinter({
    stdout: context.stdout,
    stderr: context.stderr,
    quiet: options.quiet === true || json,
  });
  const { client } = context;
  const interruption = new Interruption(context);
  try {
    const body = await buildRunBody(
      {
        target: /** @type {string} */ (args.positionals[0]),
        lang: options.lang,
        tool: options.tool,
        entry: options.entry,
        environment: options.environment,
        stdin: options.stdin,
        limits: parseLimits(options.limit),
        args: args.rest,
      },
      {
        client,
        stdin: context.stdin,
        onUpload: (files, bytes) => {
          if (context.stderr.isTTY) printer.status(`uploading ${files} files (${bytes} bytes)`);
        },
      },
    );

    interruption.defer();
    const run = /** @type {RunView} */ ((await client.call('POST', '/runs', { json: body })).body);
    interruption.handleWith(() => {
      printer.note(`cancelling run ${run.id} (Ctrl-C again to leave at once)`);
      client
        .call('POST', `/runs/${encodeURIComponent(run.id)}/cancel`)
        .catch((/** @type {unknown} */ error) =>
          printer.note(error instanceof CliError ? error.line() : String(error)),
        );
      setTimeout(() => {
        printer.note(`run ${run.id} has not ended ${CANCEL_WAIT_MS / 1000} s after the cancel`);
        context.exit(EXIT.cancelled);
      }, CANCEL_WAIT_MS).unref();
    });

    if (json) {
      const output = await waitForOutput(client, run.id);
      context.stdout.write(`${JSON.stringify(output, null, 2)}\n`);
      return interruption.interrupted ? EXIT.cancelled : exitCodeOfRun(output);
    }

    if (context.stderr.isTTY) printer.status(`run ${run.id} ${run.state}`);
    const result = await followRunEvents(client, run.id, {
      onEvent: (event) => printer.onEvent(event),
      onRetry: (reason) => printer.note(`${reason}; resuming`),
    });
    const end = result ?? (await getRun(client, run.id));
    if (end.state !== 'completed') printer.note(endLine(run.id, end));
    return interruption.interrupted ? EXIT.cancelled : exitCodeOfRun(end);
  } finally {
    interruption.dispose();
  }
}
