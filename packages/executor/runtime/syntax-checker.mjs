// runbox's long-lived JavaScript and TypeScript syntax checker: compiles snippets, never runs them.
//
// Usage: node --expose-internals [--experimental-vm-modules] --no-warnings syntax-checker.mjs
//          javascript|typescript FILE_NAME
//
// Started inside the sandbox, like every run, and kept for many checks. Each request on stdin is
// `LENGTH\n` then LENGTH bytes of UTF-8 source; each reply on stdout is `STATUS LENGTH\n` then
// LENGTH bytes: STATUS and the bytes are the exit status and the stderr of the one-shot check
// (syntax-check-argv.ts) for the same source, up to the stack frames, so both read the same way;
// `STATUS LENGTH last\n` marks the last reply before this process ends. The first reply, `0 0`,
// comes unasked: the checker has started.
//
// - javascript: what `node --check FILE` does (lib/internal/main/check_syntax.js, Node 24): a
//   `.js` file whose directory has no package.json has no format of its own, so the source is an
//   ES module when it contains module syntax, and is otherwise compiled as CommonJS. The same
//   internal functions are called, hence --expose-internals.
// - typescript: TYPESCRIPT_CHECK of syntax-check-argv.ts, line for line: strip-only type
//   stripping, then compile as CommonJS, and as an ES module when the error says it is one.
//
// Nothing runs: compiling a function, a script or a module record evaluates none of it, and no
// module is ever linked or instantiated. An error that is not a SyntaxError (a stack overflow on
// deep nesting, a fault in the type stripper's WebAssembly) ends this process after its reply
// (its last), so a checker in a doubtful state never answers again.

import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import process from 'node:process';
import vm from 'node:vm';

const require = createRequire(import.meta.url);
const { stripTypeScriptTypes } = require('node:module');
const { internalBinding } = require('internal/test/binding');
const { wrapSafe } = require('internal/modules/cjs/loader');
const { containsModuleSyntax } = internalBinding('contextify');
const { ModuleWrap } = internalBinding('module_wrap');
const {
  privateSymbols: {
    arrow_message_private_symbol: arrowSymbol,
    decorated_private_symbol: decorated,
  },
} = internalBinding('util');

const [language, file] = process.argv.slice(2);
if ((language !== 'javascript' && language !== 'typescript') || !file) {
  process.stderr.write('usage: syntax-checker.mjs javascript|typescript FILE_NAME\n');
  process.exit(2);
}

function checkJavaScript(source) {
  if (containsModuleSyntax(source, file)) {
    new ModuleWrap(file, undefined, source, 0, 0);
    return;
  }
  wrapSafe(file, source, undefined, null);
}

const ESM_HINT = /\b(?:import|export|await)\b/;

function checkTypeScript(source) {
  const js = stripTypeScriptTypes(source, { mode: 'strip', sourceUrl: file });
  try {
    vm.compileFunction(js, [], { filename: file });
  } catch (error) {
    if (!(error instanceof SyntaxError) || !ESM_HINT.test(error.message)) throw error;
    new vm.SourceTextModule(js, { identifier: file });
  }
}

/**
 * What Node prints for an uncaught error, up to its stack frames: the arrow (FILE:LINE, the source
 * line, the caret) when the stack does not hold it already, then the error's own lines. The frames
 * would name this file's lines; the one-shot check's name Node's internals.
 */
function describe(error) {
  let text;
  let arrow;
  try {
    text = error instanceof Error ? String(error.stack ?? error) : String(error);
    arrow = error instanceof Error && !error[decorated] ? error[arrowSymbol] : undefined;
  } catch {
    text = 'Error: the syntax check failed';
  }
  const frames = text.search(/\n {4}at /);
  if (frames >= 0) text = text.slice(0, frames);
  return `${typeof arrow === 'string' ? `${arrow}\n` : ''}${text}\n`;
}

const check = language === 'javascript' ? checkJavaScript : checkTypeScript;

function reply(status, text, last = false) {
  const body = Buffer.from(text, 'utf8');
  const header = `${status} ${body.length}${last ? ' last' : ''}\n`;
  process.stdout.write(Buffer.concat([Buffer.from(header), body]));
}

let pending = Buffer.alloc(0);
let expected = -1;

function handle() {
  for (;;) {
    if (expected < 0) {
      const newline = pending.indexOf(10);
      if (newline < 0) {
        if (pending.length > 32) fail('bad request header');
        return;
      }
      const header = pending.subarray(0, newline).toString('latin1');
      if (!/^\d{1,15}$/.test(header)) fail('bad request header');
      expected = Number(header);
      pending = pending.subarray(newline + 1);
    }
    if (pending.length < expected) return;
    const source = pending.subarray(0, expected).toString('utf8');
    pending = pending.subarray(expected);
    expected = -1;
    let fatal = false;
    try {
      check(source);
      reply(0, '');
    } catch (error) {
      fatal = !(error instanceof SyntaxError);
      reply(1, describe(error), fatal);
    }
    if (fatal) {
      process.stdin.pause();
      process.stdout.end(() => process.exit(0));
      return;
    }
  }
}

function fail(message) {
  process.stderr.write(`syntax-checker: ${message}\n`);
  process.exit(2);
}

// The greeting: an empty reply says this checker has started and waits for requests.
reply(0, '');
process.stdin.on('data', (chunk) => {
  pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
  handle();
});
process.stdin.on('end', () => process.exit(0));
