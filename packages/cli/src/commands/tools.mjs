// @ts-check
import { parseCommandArgs } from '../args.mjs';
import { EXIT } from '../exit-codes.mjs';
import { HELP } from '../help.mjs';

/** @import { CommandContext } from '../context.mjs' */

/**
 * @typedef {{
 *   id: string;
 *   name: string;
 *   description: string;
 *   available: boolean;
 *   reason: string | null;
 * }} ToolView
 */

/**
 * `runbox-cli tools`: the server's tools (`GET /tools`), one a line, or --json.
 * @param {string[]} argv
 * @param {CommandContext} context
 * @returns {Promise<number>}
 */
export async function toolsCommand(argv, context) {
  const args = parseCommandArgs('tools', argv, { json: { type: 'boolean' } }, { positionals: 0 });
  if (args.help) {
    context.stdout.write(`${HELP.tools}\n`);
    return EXIT.ok;
  }
  const tools = /** @type {ToolView[]} */ ((await context.client.call('GET', '/tools')).body);
  if (args.values.json) {
    context.stdout.write(`${JSON.stringify(tools, null, 2)}\n`);
    return EXIT.ok;
  }
  const width = Math.max(2, ...tools.map((tool) => tool.id.length));
  for (const tool of tools) {
    const availability = tool.available ? '' : ` (not available here: ${tool.reason ?? 'unknown'})`;
    context.stdout.write(`${tool.id.padEnd(width)}  ${tool.description}${availability}\n`);
  }
  return EXIT.ok;
}
