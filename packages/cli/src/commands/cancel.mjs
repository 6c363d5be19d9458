// @ts-check
import { parseCommandArgs } from '../args.mjs';
import { EXIT } from '../exit-codes.mjs';
import { HELP } from '../help.mjs';

/** @import { CommandContext } from '../context.mjs' */
/** @import { RunView } from '../run-types.mjs' */

/**
 * `runbox-cli cancel <id>`: `POST /runs/{id}/cancel`; prints the run's state after it.
 * @param {string[]} argv
 * @param {CommandContext} context
 * @returns {Promise<number>}
 */
export async function cancelCommand(argv, context) {
  const args = parseCommandArgs('cancel', argv, { json: { type: 'boolean' } }, { positionals: 1 });
  if (args.help) {
    context.stdout.write(`${HELP.cancel}\n`);
    return EXIT.ok;
  }
  const runId = /** @type {string} */ (args.positionals[0]);
  const answer = await context.client.call('POST', `/runs/${encodeURIComponent(runId)}/cancel`);
  const run = /** @type {RunView} */ (answer.body);
  context.stdout.write(
    args.values.json ? `${JSON.stringify(run, null, 2)}\n` : `run ${run.id} ${run.state}\n`,
  );
  return EXIT.ok;
}
