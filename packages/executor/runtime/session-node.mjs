// runbox's session kernel for JavaScript and TypeScript: one Node process that runs a session's
// cells one after the other in one global scope, so that what a cell defines, later cells use.
//
// Usage: node --expose-internals session-node.mjs javascript|typescript
//
// The channels and messages are session_python.py's (see there): requests are frames on stdin,
// replies are frames on descriptor 5 after one "R" byte (ready), and a cell's stdout and stderr
// end with the cell's fence between NUL bytes.
//
// How a cell runs:
// - TypeScript is stripped first (module.stripTypeScriptTypes, mode 'strip', as run-node.mjs).
// - Declarations at the top level of a cell (let, const, class) become `var`s of the global scope,
//   so a later cell sees them, can declare them again (a cell run twice), and `variables` lists
//   them: a `const` can then be assigned again. Node's internal acorn parses the cell for that
//   (hence --expose-internals).
// - A cell with a top-level `await` is rewritten as Node's REPL rewrites one
//   (internal/repl/await), its declarations hoisted the same way; the cell ends when its promise
//   settles.
// - The value of the last expression statement is the cell's value (written to resultPath as
//   run-node.mjs writes it).
// - SIGINT while a cell's code runs ends it with "Script execution interrupted" (vm's
//   breakOnSigint); while it awaits a promise, the wait ends (what the promise still does goes on
//   in the background, as in Node's REPL). Code that runs after an `await` and never yields can
//   only be stopped by the host killing the kernel.
// - An exception thrown later by a timer or a promise is printed on stderr; the kernel lives on.
// - `process.exit()` ends the kernel itself: the host starts it again from the last snapshot.

import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { mkdirSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import { dirname } from 'node:path';
import process from 'node:process';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { inspect, types as utilTypes } from 'node:util';
import vm from 'node:vm';
import { stripTypes } from './strip-types.mjs';

const KERNEL_FILE = fileURLToPath(import.meta.url);
const language = process.argv[2] === 'typescript' ? 'typescript' : 'javascript';
const SESSION_FILE = language === 'typescript' ? '/workspace/session.ts' : '/workspace/session.js';
const MAX_FRAME = 16 * 1024 * 1024;
const REPR_MAX = 120;
/** Names listed at most: a session of a million variables must not make a reply of gigabytes. */
const MAX_LISTED = 1000;
const SNAPSHOT_MAX_BYTES = Number(process.env.RUNBOX_SESSION_SNAPSHOT_MAX_BYTES ?? 1024 * 1024);
const NAME = /^[A-Za-z_$][\w$]*$/;
const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends ' +
    'false finally for function if import in instanceof new null return super switch this throw ' +
    'true try typeof var void while with yield let static implements interface package private ' +
    'protected public await arguments eval undefined NaN Infinity globalThis'
  ).split(' '),
);

// The kernel's own references: a cell that replaces JSON or Object does not break the channel.
const { stringify, parse } = JSON;
const { getOwnPropertyNames, getOwnPropertyDescriptor, getPrototypeOf, keys } = Object;
const ObjectPrototype = Object.prototype;
const isArray = Array.isArray;
const isProxy = utilTypes.isProxy;

const require = createRequire(import.meta.url);
const { processTopLevelAwait } = require('internal/repl/await');
const acorn = require('internal/deps/acorn/acorn/dist/acorn');

// --- channels --------------------------------------------------------------------------------

const control = process.stdin;
// A cell's process.stdin is an empty stream: reading it never takes the kernel's requests.
Object.defineProperty(process, 'stdin', {
  configurable: true,
  enumerable: true,
  get: () => emptyStdin,
});
const emptyStdin = Readable.from([]);

function send(message) {
  const data = Buffer.from(stringify(message), 'utf8');
  const frame = Buffer.alloc(4 + data.length);
  frame.writeUInt32BE(data.length, 0);
  data.copy(frame, 4);
  let offset = 0;
  while (offset < frame.length) {
    try {
      offset += writeSync(5, frame, offset);
    } catch (error) {
      if (error?.code !== 'EAGAIN') throw error;
    }
  }
}

// --- the global scope cells share --------------------------------------------------------------

function bindCommonJsGlobals() {
  const userModule = new Module(SESSION_FILE, null);
  userModule.filename = SESSION_FILE;
  userModule.paths = Module._nodeModulePaths(dirname(SESSION_FILE));
  const userRequire = createRequire(SESSION_FILE);
  userRequire.main = userModule;
  userModule.require = userRequire;
  Object.assign(globalThis, {
    require: userRequire,
    module: userModule,
    exports: userModule.exports,
    __filename: SESSION_FILE,
    __dirname: dirname(SESSION_FILE),
  });
}
bindCommonJsGlobals();
/** What is in the global scope before any cell: never a session's variable. */
const BASELINE = new Set(getOwnPropertyNames(globalThis));

// --- compiling a cell --------------------------------------------------------------------------

/** Top-level let, const and class of a script become vars of the global scope. */
function declarationsToVar(source) {
  let ast;
  try {
    ast = acorn.parse(source, { ecmaVersion: 'latest', sourceType: 'script', allowHashBang: true });
  } catch {
    return source; // vm.Script reports the syntax error in Node's own words
  }
  const edits = [];
  for (const node of ast.body) {
    if (node.type === 'VariableDeclaration' && node.kind !== 'var') {
      edits.push({ start: node.start, end: node.start + node.kind.length, text: 'var' });
    } else if (node.type === 'ClassDeclaration' && node.id) {
      edits.push({ start: node.start, end: node.start, text: `var ${node.id.name} = ` });
      edits.push({ start: node.end, end: node.end, text: ';' });
    }
  }
  let out = '';
  let at = 0;
  for (const edit of edits) {
    out += source.slice(at, edit.start) + edit.text;
    at = edit.end;
  }
  return out + source.slice(at);
}

/** A cell with top-level await, as the REPL runs one, its hoisted declarations made vars. */
function awaitingCell(source) {
  let wrapped;
  try {
    // A last line that ends in a comment would swallow the REPL's closing parenthesis.
    wrapped = processTopLevelAwait(`${source}\n`);
  } catch {
    return null;
  }
  if (wrapped === null) return null;
  const start = wrapped.indexOf('(async () => {');
  if (start < 0) return null;
  return wrapped.slice(0, start).replace(/\blet\b/g, 'var') + wrapped.slice(start);
}

function compileCell(source, filename) {
  let code = language === 'typescript' ? stripTypes(source) : source;
  if (code.startsWith('#!')) code = `//${code.slice(2)}`;
  const awaiting = awaitingCell(code);
  return {
    script: new vm.Script(awaiting ?? declarationsToVar(code), { filename }),
    awaiting: awaiting !== null,
  };
}

// --- describing values without running a session's code ----------------------------------------

function dataProperty(object, key) {
  const descriptor = getOwnPropertyDescriptor(object, key);
  return descriptor && 'value' in descriptor ? { value: descriptor.value } : null;
}

function constructorName(value) {
  try {
    if (isProxy(value)) return 'Proxy';
    const proto = getPrototypeOf(value);
    if (proto === null) return 'Object';
    const ctor = dataProperty(proto, 'constructor')?.value;
    const name = ctor ? dataProperty(ctor, 'name')?.value : undefined;
    return typeof name === 'string' && name !== '' ? name : 'Object';
  } catch {
    return 'Object';
  }
}

function typeOf(value) {
  if (value === null) return 'null';
  if (isArray(value) && !isProxy(value)) return 'Array';
  if (typeof value === 'function') {
    const source = Function.prototype.toString.call(value);
    return source.startsWith('class') ? 'class' : 'function';
  }
  if (typeof value === 'object') return constructorName(value);
  return typeof value;
}

function isPlainObject(value) {
  if (value === null || typeof value !== 'object' || isProxy(value) || isArray(value)) return false;
  const proto = getPrototypeOf(value);
  return proto === ObjectPrototype || proto === null;
}

function clip(text) {
  return text.length <= REPR_MAX * 2 ? text : `${text.slice(0, REPR_MAX * 2)}...`;
}

function shortRepr(value, depth = 0) {
  switch (typeof value) {
    case 'string':
      return stringify(value.length > REPR_MAX ? `${value.slice(0, REPR_MAX)}...` : value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return 'Symbol()';
    case 'function': {
      const name = dataProperty(value, 'name')?.value;
      return `<${typeOf(value)} ${typeof name === 'string' ? name : ''}>`;
    }
    default:
  }
  if (value === null) return 'null';
  if (isArray(value) && !isProxy(value)) {
    if (depth > 2) return '[...]';
    const items = [];
    for (let index = 0; index < value.length; index++) {
      if (index >= 8) {
        items.push('...');
        break;
      }
      const item = dataProperty(value, String(index));
      items.push(item ? shortRepr(item.value, depth + 1) : '<empty>');
    }
    return clip(`[${items.join(', ')}]`);
  }
  if (isPlainObject(value)) {
    if (depth > 2) return '{...}';
    const items = [];
    for (const key of keys(value)) {
      if (items.length >= 8) {
        items.push('...');
        break;
      }
      const item = dataProperty(value, key);
      items.push(`${stringify(key)}: ${item ? shortRepr(item.value, depth + 1) : '<getter>'}`);
    }
    return clip(`{${items.join(', ')}}`);
  }
  return `<${typeOf(value)}>`;
}

/** The value's JSON when it comes back exactly from it, within `budget` characters. */
function boundedJson(value, budget) {
  let size = 0;
  let nodes = 0;
  const seen = new Set();
  // Every element takes two characters at least ("1,"): a longer array is too large unwalked.
  const maxNodes = Math.floor(budget / 2) + 1;
  const check = (item) => {
    if (++nodes > maxNodes) throw new Error('too large');
    if (typeof item === 'string') size += item.length + 2;
    else if (typeof item === 'number') {
      if (!Number.isFinite(item) || Object.is(item, -0)) throw new Error('not JSON');
      size += 8;
    } else if (typeof item === 'boolean' || item === null) size += 5;
    else if (isArray(item) && !isProxy(item)) {
      if (item.length > maxNodes - nodes) throw new Error('too large');
      if (seen.has(item)) throw new Error('not JSON');
      seen.add(item);
      for (let index = 0; index < item.length; index++) {
        const child = dataProperty(item, String(index));
        if (!child) throw new Error('not JSON');
        check(child.value);
      }
      seen.delete(item);
      size += 2;
    } else if (isPlainObject(item)) {
      if (seen.has(item)) throw new Error('not JSON');
      seen.add(item);
      for (const key of getOwnPropertyNames(item)) {
        const child = dataProperty(item, key);
        if (!child || !getOwnPropertyDescriptor(item, key).enumerable) throw new Error('not JSON');
        if (key === '__proto__') throw new Error('not JSON');
        size += key.length + 3;
        check(child.value);
      }
      seen.delete(item);
      size += 2;
    } else throw new Error('not JSON');
    if (size > budget) throw new Error('too large');
  };
  try {
    check(value);
  } catch (error) {
    return { text: null, reason: error.message === 'too large' ? 'too large' : 'not JSON' };
  }
  const text = stringify(value);
  return text.length > budget ? { text: null, reason: 'too large' } : { text, reason: null };
}

function userNames() {
  return getOwnPropertyNames(globalThis).filter((name) => !BASELINE.has(name));
}

function snapshot() {
  const values = {};
  const lost = [];
  let left = SNAPSHOT_MAX_BYTES;
  for (const name of userNames()) {
    const property = dataProperty(globalThis, name);
    if (!property) {
      if (lost.length < MAX_LISTED) lost.push({ name, type: 'getter', reason: 'not JSON' });
      continue;
    }
    const { text, reason } = boundedJson(property.value, left);
    if (text === null) {
      if (lost.length < MAX_LISTED) lost.push({ name, type: typeOf(property.value), reason });
      continue;
    }
    left -= text.length + name.length + 4;
    values[name] = parse(text);
  }
  return { values, modules: {}, lost };
}

function validName(name) {
  return typeof name === 'string' && NAME.test(name) && !RESERVED.has(name) && !BASELINE.has(name);
}

// --- running a cell ----------------------------------------------------------------------------

let interruptWait = null;
process.on('SIGINT', () => {
  // Between cells nothing happens; while a cell awaits, its wait ends.
  interruptWait?.();
});

function trimStack(error) {
  if (!(error instanceof Error) || typeof error.stack !== 'string') return error;
  const kept = error.stack
    .split('\n')
    .filter(
      (line) =>
        !(/^\s+at /.test(line) && (line.includes(KERNEL_FILE) || /\(node:|at node:/.test(line))),
    );
  try {
    error.stack = kept.join('\n');
  } catch {
    // a frozen error keeps its stack
  }
  return error;
}

function printError(error) {
  const trimmed = trimStack(error);
  let text;
  try {
    text = trimmed instanceof Error ? inspect(trimmed) : `Uncaught ${inspect(trimmed)}`;
  } catch {
    text = 'Uncaught exception';
  }
  process.stderr.write(`${text}\n`);
}

process.on('uncaughtException', printError);
process.on('unhandledRejection', printError);

function isHandle(value) {
  return (
    value instanceof EventEmitter ||
    value?.constructor?.name === 'Timeout' ||
    value?.constructor?.name === 'Immediate'
  );
}

function writeResult(resultPath, value) {
  if (value === undefined || value === null || isHandle(value)) return;
  let text;
  try {
    text = stringify(value);
  } catch {
    text = stringify(inspect(value));
  }
  if (text === undefined) return;
  try {
    mkdirSync(dirname(resultPath), { recursive: true });
    writeFileSync(resultPath, text, { flag: 'wx' });
  } catch (error) {
    if (error?.code !== 'EEXIST')
      process.stderr.write(`runbox: could not write the result: ${error?.message ?? error}\n`);
  }
}

function drained(stream) {
  if (!stream.writableLength) return Promise.resolve();
  return new Promise((resolve) => stream.once('drain', resolve));
}

let cells = 0;

async function runCell(message) {
  const resultPath = String(message.resultPath ?? '/workspace/.runbox/result.json');
  try {
    unlinkSync(resultPath);
  } catch {
    // none yet
  }
  cells += 1;
  const filename = `cell-${cells}${language === 'typescript' ? '.ts' : '.js'}`;
  let status = 'ok';
  let exitCode = 0;
  let value;
  try {
    const { script, awaiting } = compileCell(String(message.code ?? ''), filename);
    value = script.runInThisContext({ breakOnSigint: true, displayErrors: true });
    if (awaiting || (value !== null && typeof value?.then === 'function')) {
      const interrupted = new Promise((_resolve, reject) => {
        interruptWait = () => reject(new Error('Script execution interrupted.'));
      });
      value = await Promise.race([value, interrupted]);
      if (awaiting) value = value?.value;
    }
  } catch (error) {
    const wasInterrupted =
      error?.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED' ||
      (error instanceof Error && error.message === 'Script execution interrupted.');
    status = wasInterrupted ? 'interrupted' : 'error';
    exitCode = wasInterrupted ? 130 : 1;
    printError(error);
    value = undefined;
  } finally {
    interruptWait = null;
  }
  writeResult(resultPath, value);
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  const fence = Buffer.from(`\0${String(message.fence ?? '')}\0`, 'ascii');
  const fenced = [1, 2].map((fd) => {
    try {
      writeSync(fd, fence);
      return true;
    } catch {
      return false;
    }
  });
  return { status, exitCode, fenced, snapshot: snapshot() };
}

function variables() {
  const listing = userNames()
    .sort()
    .slice(0, MAX_LISTED)
    .map((name) => {
      const property = dataProperty(globalThis, name);
      return property
        ? { name, type: typeOf(property.value), repr: shortRepr(property.value) }
        : { name, type: 'getter', repr: '<getter>' };
    });
  return { variables: listing };
}

function setVariable(message) {
  if (!validName(message.name))
    return { error: `${stringify(String(message.name))} is not a name a variable can have` };
  globalThis[message.name] = message.value;
  return { ok: true };
}

function restore(message) {
  const restored = [];
  for (const [name, value] of Object.entries(message.values ?? {})) {
    if (!validName(name)) continue;
    globalThis[name] = value;
    restored.push(name);
  }
  return { restored, failed: [] };
}

const handlers = { cell: runCell, variables, set: setVariable, restore };

async function handle(message) {
  const handler = handlers[message?.op];
  const reply = handler ? await handler(message) : { error: `unknown op ${message?.op}` };
  send({ ...reply, id: message?.id, op: message?.op });
}

// --- the request loop --------------------------------------------------------------------------

let pending = Buffer.alloc(0);
let chain = Promise.resolve();
control.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  while (pending.length >= 4) {
    const length = pending.readUInt32BE(0);
    if (length > MAX_FRAME) process.exit(3);
    if (pending.length < 4 + length) break;
    const message = parse(pending.subarray(4, 4 + length).toString('utf8'));
    pending = pending.subarray(4 + length);
    chain = chain.then(() => handle(message)).catch(printError);
  }
});
control.on('end', () => process.exit(0));

writeSync(5, 'R');
