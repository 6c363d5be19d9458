#!/usr/bin/env node
// @ts-check
// runbox-cli: the command line client of a runbox server (docs/cli.md). Plain JavaScript with
// no dependencies, so any Node 20 or newer runs it as it is.
import process from 'node:process';
import { setTimeout } from 'node:timers';
import { main } from '../src/main.mjs';
import { EXIT } from '../src/exit-codes.mjs';

/**
 * Leaves once what was written to stdout and stderr has gone out (writes to a pipe may be
 * asynchronous, and process.exit would drop what is still queued).
 * @param {number} code
 */
function exit(code) {
  process.exitCode = code;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
  // A stream that can no longer be written may never call back.
  setTimeout(() => process.exit(code), 2000);
}

// The reader of stdout went away (`runbox-cli run x.py | head -1`). A local program would die of
// SIGPIPE at its next write; here the run is cancelled as Ctrl-C would (`run` listens), else the
// CLI leaves with 128 + SIGPIPE.
let pipeBroken = false;
process.stdout.on('error', (/** @type {NodeJS.ErrnoException} */ error) => {
  if (error.code !== 'EPIPE' || pipeBroken) return;
  pipeBroken = true;
  if (process.listenerCount('SIGINT') > 0) process.emit('SIGINT', 'SIGINT');
  else exit(EXIT.brokenPipe);
});

const code = await main(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  signals: process,
  exit,
});
exit(code);
