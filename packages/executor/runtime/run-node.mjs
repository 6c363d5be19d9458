// runbox's Node runner for JavaScript and TypeScript snippets: runs a snippet like `node main.js`,
// and hands back the value of its last expression, like a REPL.
//
// Usage: node run-node.mjs RESULT_PATH USER_FILE [ARGS...]
//        node run-node.mjs --warm [typescript]
//
// --warm: started ahead of demand (a warm sandbox), with Node and this runner loaded (and, for
// typescript, the type stripper), it waits for its arguments on stdin: a 4-byte big-endian length,
// then that many bytes of a JSON array of strings (RESULT_PATH, USER_FILE, ARGS...). Read with
// readSync, byte-exact, so the rest of stdin is the program's. Before it waits, it writes one byte
// to descriptor 5 (when open) and closes it: the sandbox is ready.
//
// A CommonJS-style script runs as a vm.Script in this context, with `require`, `module`,
// `exports`, `__filename` and `__dirname` bound to the user file, and its completion value (the
// value of the last expression statement) is the result. A promise is awaited first. A value
// other than undefined, null or a handle (a timer, a stream, an event emitter: the tail of a
// statement run for its effect) is written as JSON to RESULT_PATH, unless the snippet has already
// written that file itself; a value JSON cannot encode (a cycle, a BigInt) is written as the JSON
// string of util.inspect(value).
//
// Limits:
// - Code that uses ES module syntax (import, export, top-level await, import.meta) cannot run as
//   a script; it is loaded with a plain import() instead, as `node main.js` would load it, and
//   hands back no value. So does code that is only valid inside the CommonJS function wrapper,
//   such as a top-level `return`.
// - As a script, top-level `var` and function declarations become globals and `this` is
//   globalThis rather than module.exports.
// - TypeScript is stripped with module.stripTypeScriptTypes (mode 'strip', the same erasable
//   subset `node main.ts` accepts; positions are kept, so line numbers match the user's file).

import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { closeSync, mkdirSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import process from 'node:process';
import { inspect } from 'node:util';
import vm from 'node:vm';
import { stripTypes } from './strip-types.mjs';

const RUNNER_FILE = fileURLToPath(import.meta.url);

// Node may find its stdin non-blocking in the sandbox: a read with nothing there yet answers
// EAGAIN. The wait between tries sleeps (Atomics.wait) instead of spinning: a waiting warm
// sandbox spinning took a core and doubled every other run's start.
const pause = new Int32Array(new SharedArrayBuffer(4));

function readExactly(count) {
  const buffer = Buffer.alloc(count);
  let filled = 0;
  while (filled < count) {
    let read;
    try {
      read = readSync(0, buffer, filled, count - filled, null);
    } catch (error) {
      if (error?.code === 'EAGAIN') {
        Atomics.wait(pause, 0, 0, 1);
        continue;
      }
      throw error;
    }
    if (read === 0) process.exit(0); // the sandbox was discarded before it was given a run
    filled += read;
  }
  return buffer;
}

/** One byte on descriptor 5 says loaded and waiting; closed before any run's code exists. */
function signalReady() {
  try {
    writeSync(5, 'R');
    closeSync(5);
  } catch {
    // started by hand, with no one waiting
  }
}

function awaitArguments(prewarm) {
  if (prewarm === 'typescript') stripTypes('const warm: number = 1;');
  signalReady();
  const length = readExactly(4).readUInt32BE(0);
  if (length > 65536) {
    process.stderr.write("runbox: the warm runner's arguments are too long\n");
    process.exit(2);
  }
  const parsed = JSON.parse(readExactly(length).toString('utf8'));
  if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === 'string')) {
    process.stderr.write("runbox: the warm runner's arguments are not a list of strings\n");
    process.exit(2);
  }
  return parsed;
}

const launchArgs = process.argv.slice(2);
const [resultPath, userArg, ...userArgs] =
  launchArgs[0] === '--warm' ? awaitArguments(launchArgs[1]) : launchArgs;
if (resultPath === undefined || userArg === undefined) {
  process.stderr.write('usage: run-node.mjs RESULT_PATH USER_FILE [ARGS...]\n');
  process.exit(2);
}
const userFile = resolve(userArg);
const userUrl = pathToFileURL(userFile).href;
process.argv = [process.argv[0] ?? 'node', userFile, ...userArgs];

try {
  mkdirSync(dirname(resultPath), { recursive: true });
} catch {
  // the snippet may still run; it just has no directory for its own result file
}

/** True for a line of a stack trace that names the user's file. */
function isUserFrame(line) {
  return /^\s+at /.test(line) && (line.includes(userFile) || line.includes(userUrl));
}

/**
 * Drops this runner's frames (and the vm and loader frames under them) from the bottom of a stack:
 * everything below the user's outermost frame is the runner's.
 */
function trimStack(error) {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return error;
  const lines = error.stack.split('\n');
  let lastUser = -1;
  lines.forEach((line, index) => {
    if (isUserFrame(line)) lastUser = index;
  });
  const kept =
    lastUser >= 0
      ? lines.slice(0, lastUser + 1)
      : lines.filter((line) => !(/^\s+at /.test(line) && line.includes(RUNNER_FILE)));
  try {
    error.stack = kept.join('\n');
  } catch {
    // a frozen error keeps its stack
  }
  return error;
}

/**
 * Reports an error the snippet did not catch the way Node reports an uncaught exception (its stack,
 * then the Node version, exit code 1). Rethrowing it would add an arrow pointing at this runner's
 * source, so it is printed here, unless the snippet listens for uncaught exceptions itself.
 */
function reportUncaught(error) {
  const trimmed = trimStack(error);
  if (
    process.listenerCount('uncaughtException') > 0 ||
    process.listenerCount('uncaughtExceptionMonitor') > 0
  ) {
    process.nextTick(() => {
      throw trimmed;
    });
    return;
  }
  const text = trimmed instanceof Error ? inspect(trimmed) : `Uncaught ${inspect(trimmed)}`;
  process.stderr.write(`${text}\n\nNode.js ${process.version}\n`);
  process.exit(1);
}

/** Compiles the snippet as a classic script, or returns null when it needs the module loader. */
function compileScript() {
  let source = readFileSync(userFile, 'utf8');
  if (/\.[cm]?ts$/.test(userFile)) {
    try {
      source = stripTypes(source);
    } catch {
      return null; // syntax that cannot be stripped: Node's own loader reports it
    }
  }
  if (source.startsWith('#!')) source = `//${source.slice(2)}`;
  try {
    return new vm.Script(source, { filename: userFile });
  } catch (error) {
    if (error instanceof SyntaxError) return null;
    throw error;
  }
}

function bindCommonJsGlobals() {
  const userModule = new Module(userFile, null);
  userModule.filename = userFile;
  userModule.paths = Module._nodeModulePaths(dirname(userFile));
  const require = createRequire(userFile);
  require.main = userModule;
  userModule.require = require;
  Object.assign(globalThis, {
    require,
    module: userModule,
    exports: userModule.exports,
    __filename: userFile,
    __dirname: dirname(userFile),
  });
}

/**
 * A timer, a stream or an emitter as the last value is almost always the tail of a statement run
 * for its effect (`setTimeout(...)`, `stream.on(...)`), not data.
 */
function isHandle(value) {
  return (
    value instanceof EventEmitter ||
    value?.constructor?.name === 'Timeout' ||
    value?.constructor?.name === 'Immediate'
  );
}

function writeResult(value) {
  if (value === undefined || value === null || isHandle(value)) return;
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = JSON.stringify(inspect(value));
  }
  if (text === undefined) return; // a function or a symbol: nothing JSON can say
  try {
    // 'wx': never replaces what stands there, and never follows a link planted there.
    writeFileSync(resultPath, text, { flag: 'wx' });
  } catch (error) {
    if (error?.code !== 'EEXIST') {
      process.stderr.write(`runbox: could not write the result: ${error?.message ?? error}\n`);
    }
  }
}

async function main() {
  const script = compileScript();
  if (script === null) {
    await import(userUrl);
    return;
  }
  bindCommonJsGlobals();
  let value = script.runInThisContext();
  if (value !== null && typeof value?.then === 'function') value = await value;
  writeResult(value);
}

main().catch(reportUncaught);
