import type { Language } from '../languages/language.ts';
import { SyntaxCheckError } from './validation-errors.ts';

/**
 * The command that checks a file's syntax without running it, to be run INSIDE the sandbox by the
 * engine, and the parser of what each checker prints. Nothing here spawns a process. None of the
 * checkers writes a file (no .pyc, no compile cache).
 *
 * - bash: `bash -n FILE`.
 * - python: `python3 -I -S -B -W ignore -c PYTHON_CHECK FILE`. The builtin compile() also catches
 *   errors that ast.parse lets through ('return' outside function). -I keeps the workspace and
 *   PYTHON* variables out of sys.path (a file named ast.py cannot interfere), -S skips site, -B
 *   writes no bytecode. It prints one line, `FILE: line N: SyntaxError: message`, and exits 1.
 * - javascript: `node --check FILE` (Node decides CommonJS or ES module as it would when running).
 * - typescript: `node --check` does not strip types (measured on Node 24.21: it reports
 *   "Missing initializer" for `const a: number = 1`), so a small script does what running the file
 *   would: strip types the way Node does by default (module.stripTypeScriptTypes, strip-only, so
 *   enums and namespaces are refused exactly as at run time), then compile without running: as
 *   CommonJS, and as an ES module when the CommonJS error says the code is one. Errors are left
 *   uncaught so Node prints them in the same form as `node --check`.
 */

const PYTHON_CHECK = [
  'import sys',
  'path = sys.argv[1]',
  'try:',
  "    with open(path, 'rb') as source:",
  "        compile(source.read(), path, 'exec', dont_inherit=True)",
  'except (SyntaxError, ValueError) as error:',
  "    line = getattr(error, 'lineno', None)",
  "    where = ' line %d:' % line if line else ''",
  "    detail = getattr(error, 'msg', None) or str(error)",
  "    sys.stderr.write('%s:%s %s: %s\\n' % (path, where, type(error).__name__, detail))",
  '    sys.exit(1)',
].join('\n');

const TYPESCRIPT_CHECK = [
  "const fs = require('node:fs');",
  "const vm = require('node:vm');",
  "const { stripTypeScriptTypes } = require('node:module');",
  'const file = process.argv[1];',
  "const source = fs.readFileSync(file, 'utf8');",
  "const js = stripTypeScriptTypes(source, { mode: 'strip', sourceUrl: file });",
  'try {',
  '  vm.compileFunction(js, [], { filename: file });',
  '} catch (error) {',
  '  const esm = /\\b(?:import|export|await)\\b/;',
  '  if (!(error instanceof SyntaxError) || !esm.test(error.message)) throw error;',
  '  new vm.SourceTextModule(js, { identifier: file });',
  '}',
].join('\n');

/** A relative path that starts with '-' would be read as an option. */
function safePath(filePath: string): string {
  return filePath.startsWith('/') || filePath.startsWith('./') || filePath.startsWith('../')
    ? filePath
    : `./${filePath}`;
}

/** The argv that checks the syntax of the file at `filePath` (a path inside the sandbox). */
export function syntaxCheckArgv(language: Language, filePath: string): string[] {
  const file = safePath(filePath);
  switch (language) {
    case 'bash':
      return ['bash', '-n', file];
    case 'python':
      return ['python3', '-I', '-S', '-B', '-W', 'ignore', '-c', PYTHON_CHECK, file];
    case 'javascript':
      return ['node', '--check', file];
    case 'typescript':
      return ['node', '--experimental-vm-modules', '--no-warnings', '-e', TYPESCRIPT_CHECK, file];
  }
}

export interface ParsedSyntaxError {
  /** 1-based line the checker named, or null when none could be read. */
  readonly line: number | null;
  /** The checker's message, one line, without the file path. */
  readonly message: string;
}

const MAX_MESSAGE_CHARS = 500;
const FALLBACK_MESSAGE = 'syntax check failed';

function shorten(message: string): string {
  const trimmed = message.trim();
  if (trimmed === '') return FALLBACK_MESSAGE;
  return trimmed.length > MAX_MESSAGE_CHARS
    ? `${trimmed.slice(0, MAX_MESSAGE_CHARS - 1)}…`
    : trimmed;
}

function firstLine(text: string): string {
  return text.trim().split('\n', 1)[0] ?? '';
}

/** `FILE: line N: message`, as bash prints it and as PYTHON_CHECK prints it. */
const LINE_COLON_FORM = /^.*?: line (\d+): (.*)$/m;

function parseBash(stderr: string): ParsedSyntaxError {
  const match = LINE_COLON_FORM.exec(stderr);
  if (match) return { line: Number(match[1]), message: shorten(match[2] ?? '') };
  return { line: null, message: shorten(firstLine(stderr)) };
}

/** The last line of a traceback, e.g. "IndentationError: expected an indented block". */
const PYTHON_EXCEPTION = /^(\w*(?:Error|Exception|Warning)\b.*)$/gm;
const PYTHON_TRACEBACK_FILE = /^ {2}File "[^"]*", line (\d+)$/gm;

function parsePython(stderr: string): ParsedSyntaxError {
  const checked = LINE_COLON_FORM.exec(stderr);
  if (checked) return { line: Number(checked[1]), message: shorten(checked[2] ?? '') };
  // No line number (e.g. null bytes): PYTHON_CHECK prints `FILE: ValueError: message`.
  const lineless = /^.*?: (\w*(?:Error|Exception)\b: .*)$/m.exec(firstLine(stderr));
  if (lineless && !stderr.includes('Traceback')) {
    return { line: null, message: shorten(lineless[1] ?? '') };
  }
  // A plain traceback: the frame of the checked file is the last `File "...", line N` without
  // ", in ...", and the exception is the last line.
  const frames = [...stderr.matchAll(PYTHON_TRACEBACK_FILE)];
  const exceptions = [...stderr.matchAll(PYTHON_EXCEPTION)];
  const frame = frames[frames.length - 1];
  const exception = exceptions[exceptions.length - 1];
  return {
    line: frame ? Number(frame[1]) : null,
    message: shorten(exception?.[1] ?? firstLine(stderr)),
  };
}

/**
 * Node prints `FILE:LINE`, the source line, a caret line, a blank line, then
 * `SyntaxError[ [CODE]]: message` and a stack. Warnings such as "(node:12) Warning: ..." may come
 * first; `node:internal/...:LINE` headers belong to Node, not to the checked file, and a stack
 * frame (`    at [eval]:6:12`) names the checker's own line and column.
 */
function parseNode(stderr: string): ParsedSyntaxError {
  const lines = stderr.split('\n');
  const header = lines.find(
    (line) =>
      /^.+:\d+$/.test(line) &&
      !line.startsWith('node:') &&
      !line.startsWith('(') &&
      !/^\s+at /.test(line),
  );
  const headerLine = header === undefined ? null : Number(/:(\d+)$/.exec(header)?.[1]);
  const error = /(?:^|\n)\n(\w*(?:Error|Exception))(?: \[\w+\])?: ([^\n]*)/.exec(stderr);
  const anyError = /^(\w*Error)(?: \[\w+\])?: (.*)$/m.exec(stderr);
  const found = error ?? anyError;
  return {
    line: headerLine,
    message: shorten(found ? `${found[1]}: ${found[2]}` : firstLine(stderr)),
  };
}

/** Reads the line number and message from a syntax checker's stderr. */
export function parseSyntaxError(language: Language, stderr: string): ParsedSyntaxError {
  switch (language) {
    case 'bash':
      return parseBash(stderr);
    case 'python':
      return parsePython(stderr);
    case 'javascript':
    case 'typescript':
      return parseNode(stderr);
  }
}

/** The error the engine throws when the check exits non-zero. */
export function syntaxCheckError(language: Language, stderr: string): SyntaxCheckError {
  const { line, message } = parseSyntaxError(language, stderr);
  return new SyntaxCheckError({ language, line, detail: message });
}
