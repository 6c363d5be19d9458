// @ts-check
import { ApiClient } from './api-client.mjs';
import { cancelCommand } from './commands/cancel.mjs';
import { logsCommand } from './commands/logs.mjs';
import { runCommand } from './commands/run.mjs';
import { statusCommand } from './commands/status.mjs';
import { toolsCommand } from './commands/tools.mjs';
import { CliError, UsageError } from './errors.mjs';
import { EXIT } from './exit-codes.mjs';
import { HELP, isCommand } from './help.mjs';
import { CLI_VERSION } from './version.mjs';

/** @import { CommandContext } from './context.mjs' */

/**
 * @type {Record<string, (argv: string[], context: CommandContext) => Promise<number>>}
 */
const COMMANDS = {
  run: runCommand,
  logs: logsCommand,
  status: statusCommand,
  cancel: cancelCommand,
  tools: toolsCommand,
};

/**
 * Runs one command line; answers the exit code. Every failure is one line on stderr.
 * @param {string[]} argv the arguments after the program's name
 * @param {Omit<CommandContext, 'client'> & { env: NodeJS.ProcessEnv }} io
 * @returns {Promise<number>}
 */
export async function main(argv, io) {
  const [name, ...rest] = argv;
  try {
    if (name === undefined) {
      io.stderr.write(`${HELP.main}\n`);
      return EXIT.refused;
    }
    if (name === '--help' || name === '-h') {
      io.stdout.write(`${HELP.main}\n`);
      return EXIT.ok;
    }
    if (name === '--version' || name === '-v') {
      io.stdout.write(`${CLI_VERSION}\n`);
      return EXIT.ok;
    }
    if (name === 'help') {
      const topic = rest[0];
      if (topic !== undefined && !isCommand(topic)) throw new UsageError(`no command ${topic}`);
      io.stdout.write(`${topic === undefined ? HELP.main : HELP[topic]}\n`);
      return EXIT.ok;
    }
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (command === undefined) throw new UsageError(`unknown command ${name}`);
    return await command(rest, { ...io, client: ApiClient.fromEnv(io.env) });
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`runbox-cli: ${error.line()}\n`);
      return error.exitCode;
    }
    io.stderr.write(
      `runbox-cli: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT.failure;
  }
}
