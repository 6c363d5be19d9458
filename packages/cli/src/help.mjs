// @ts-check

/** The --help text of the CLI and of each command. docs/cli.md says the same at length. */

const ENVIRONMENT = `environment:
  RUNBOX_URL       the server (default http://localhost:3000)
  RUNBOX_API_KEY   an API key of the server (RUNBOX_API_KEYS there), sent as a bearer`;

export const HELP = Object.freeze({
  main: `usage: runbox-cli <command> [options]

Runs files and folders on a runbox server and follows their output live.

commands:
  run <file|folder>   run a file as a snippet, or a folder (or file) with a tool; follow it live
  logs <id>           print a run's output (--follow: live, to its end)
  status <id>         show a run: state, exit code, times
  cancel <id>         cancel a run
  tools               list the server's tools

Every command takes --json (the server's answer as JSON) and --help.
runbox-cli --version prints the version.

${ENVIRONMENT}

exit codes: the run's own exit code for run and logs --follow; 124 timed out, 130 cancelled or
Ctrl-C, 137 memory limit, 141 output limit, 125 runbox failed to run it; 2 a wrong command line
or a request the server refused; 1 the server could not be reached or failed.`,

  run: `usage: runbox-cli run <file|folder> [options] [-- args...]

A file runs as a snippet in the language its extension names (.py .js .mjs .cjs .ts .mts .cts
.sh .bash) or --lang gives. A folder is packed (tar.gz, .git left out), uploaded and run with a
tool: --tool, else the "tool" of the folder's runbox.json. A file with --tool is uploaded alone
and run with that tool (its entry is the file).

The output is printed as it comes: the run's stdout to stdout, its stderr to stderr. While the
run waits its turn, its place in the queue is shown on stderr. Ctrl-C cancels the run.

options:
  --lang <language>       python, javascript, typescript or bash (a file only)
  --tool <id>             a tool (runbox-cli tools lists them): run the folder or file with it
  --entry <path>          with a tool: the project's file it starts (python, node, bash); with a
                          snippet: the file name its code runs as (default: the language's own)
  --environment <name>    the packages the run gets: "project" installs the project's
                          requirements.txt, pyproject.toml or package.json first (a tool run);
                          another name is one the server declares (GET /api/v1/environments)
  --stdin <file|->        the run's standard input, from a file or this process's stdin (-)
  --limit <name>=<value>  a limit for this run, repeatable or comma-separated:
                          wallTimeMs, memoryBytes, maxProcesses, cpus, tmpBytes, workspaceBytes,
                          openFiles, outputBytes (runbox-cli asks; the server's ranges decide)
  --json                  print nothing while it runs; at the end, the run with its output as JSON
  -q, --quiet             no notes of runbox-cli's own on stderr (queue position, end state)
  -- args...              arguments for the program (sent as the run's "args"; a server without
                          that field refuses them)

exit code: the program's own; 124 timed out, 130 cancelled (or Ctrl-C), 137 memory limit, 141
output limit, 125 runbox failed to run it (error, interrupted); 2 the command line was wrong or
the server refused the run or the upload; 1 the server could not be reached or failed.

${ENVIRONMENT}`,

  logs: `usage: runbox-cli logs <id> [--follow] [--json]

Prints a run's output: its stdout to stdout, its stderr to stderr (each at most the server's
RUNBOX_REST_OUTPUT_MAX_BYTES, 1 MiB by default; a note on stderr says when one was cut).

options:
  -f, --follow   print every line from the start, then live until the run ends, and exit with
                 the run's exit code (as run does)
  --json         the run with its output as JSON (with --follow: once it has ended)
  -q, --quiet    no notes of runbox-cli's own on stderr

${ENVIRONMENT}`,

  status: `usage: runbox-cli status <id> [--json]

Shows a run: its state, exit code, place in the queue, times and usage.

options:
  --json   the run as the server shows it (GET /api/v1/runs/{id})

${ENVIRONMENT}`,

  cancel: `usage: runbox-cli cancel <id> [--json]

Cancels a run: it ends cancelled. A run that has already ended stays as it is.

options:
  --json   the run after the cancel, as the server shows it

${ENVIRONMENT}`,

  tools: `usage: runbox-cli tools [--json]

Lists the server's tools: their ids (for run --tool), whether each is available here, and what
they do.

options:
  --json   the list as the server sends it (GET /api/v1/tools)

${ENVIRONMENT}`,
});

/** @typedef {keyof typeof HELP} HelpTopic */

/**
 * @param {string} name
 * @returns {name is Exclude<HelpTopic, 'main'>}
 */
export function isCommand(name) {
  return name !== 'main' && Object.hasOwn(HELP, name);
}
