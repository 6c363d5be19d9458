import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Language } from '../languages/language.ts';
import { parseSyntaxError, syntaxCheckArgv, syntaxCheckError } from './syntax-check-argv.ts';
import { SyntaxCheckError } from './validation-errors.ts';

// Captured from the real tools on this project's build host: GNU bash 5.2.15, Python 3.11.2
// (/usr/bin/python3) through syntaxCheckArgv, Node 24.21.0.
const CAPTURED = {
  bashEof: './a.sh: line 4: syntax error: unexpected end of file\n',
  bashToken: "./d.sh: line 2: syntax error near unexpected token `)'\n./d.sh: line 2: `)'\n",
  bashMatching: "./c.sh: line 2: unexpected EOF while looking for matching `)'\n",
  pythonInvalid: './a.py: line 2: SyntaxError: invalid syntax\n',
  pythonIndent:
    "./b.py: line 3: IndentationError: expected an indented block after 'if' statement on line 2\n",
  pythonNull: './nul.py: ValueError: source code string cannot contain null bytes\n',
  pythonTraceback: [
    'Traceback (most recent call last):',
    '  File "<string>", line 1, in <module>',
    '  File "/usr/lib/python3.11/ast.py", line 50, in parse',
    '    return compile(source, filename, mode, flags,',
    '           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    '  File "b.py", line 3',
    '    print(1)',
    '    ^',
    "IndentationError: expected an indented block after 'if' statement on line 2",
    '',
  ].join('\n'),
  nodeEndOfInput:
    '/tmp/syn/a.js:3\n\n\n\nSyntaxError: Unexpected end of input\n' +
    '    at wrapSafe (node:internal/modules/cjs/loader:1861:18)\n' +
    '    at checkSyntax (node:internal/main/check_syntax:88:3)\n\nNode.js v24.21.0\n',
  nodeRedeclared:
    "/tmp/syn/b.js:2\nlet x = 2;\n    ^\n\nSyntaxError: Identifier 'x' has already been declared\n" +
    '    at wrapSafe (node:internal/modules/cjs/loader:1861:18)\n' +
    '    at checkSyntax (node:internal/main/check_syntax:88:3)\n\nNode.js v24.21.0\n',
  nodeWarningFirst:
    '(node:5913) Warning: Failed to load the ES module: [stdin]. Make sure to set "type": "module".\n' +
    '(Use `node --trace-warnings ...` to show where the warning was created)\n' +
    '[stdin]:1\nimport fs from "fs";\n^^^^^^\n\n' +
    'SyntaxError: Cannot use import statement outside a module\n' +
    '    at wrapSafe (node:internal/modules/cjs/loader:1861:18)\n\nNode.js v24.21.0\n',
  typescriptUnsupported:
    './b.ts:1\nenum E { A }\n^^^^^^^^^^^^\n\n' +
    'SyntaxError [ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX]: TypeScript enum is not supported in strip-only mode\n' +
    '    at parseTypeScript (node:internal/modules/typescript:68:40)\n' +
    "    at [eval]:6:12 {\n  code: 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX'\n}\n\nNode.js v24.21.0\n",
  typescriptEsm:
    "./esm-bad.ts:3\nlet a = 2;\n    ^\n\nSyntaxError: Identifier 'a' has already been declared\n" +
    '    at new Module (node:internal/vm/module:155:21)\n' +
    '    at new SourceTextModule (node:internal/vm/module:301:5)\n\nNode.js v24.21.0\n',
  // No arrow: the only `...:N` line is a frame of the check script (`[eval]:6:12`), not the file's.
  typescriptStripperFault:
    'node:internal/assert:17\n  throw new ERR_INTERNAL_ASSERTION(message);\n  ^\n\n' +
    'Error [ERR_INTERNAL_ASSERTION]: memory access out of bounds\n' +
    'This is caused by either a bug in Node.js or incorrect usage of Node.js internals.\n\n' +
    '    at assert.fail (node:internal/assert:17:9)\n' +
    '    at stripTypeScriptTypes (node:internal/modules/typescript:123:10)\n' +
    "    at [eval]:6:12\n    at runScriptInThisContext (node:internal/vm:219:10) {\n  code: 'ERR_INTERNAL_ASSERTION'\n}\n\nNode.js v24.21.0\n",
  nodeMissingFile:
    "node:internal/modules/cjs/loader:1413\n  throw err;\n  ^\n\nError: Cannot find module '/x.js'\n" +
    '    at Module._resolveFilename (node:internal/modules/cjs/loader:1410:15)\n\nNode.js v24.21.0\n',
};

describe('parseSyntaxError', () => {
  it.each<[Language, string, number | null, string]>([
    ['bash', CAPTURED.bashEof, 4, 'syntax error: unexpected end of file'],
    ['bash', CAPTURED.bashToken, 2, "syntax error near unexpected token `)'"],
    ['bash', CAPTURED.bashMatching, 2, "unexpected EOF while looking for matching `)'"],
    [
      'bash',
      'bash: ./x.sh: No such file or directory\n',
      null,
      'bash: ./x.sh: No such file or directory',
    ],
    ['python', CAPTURED.pythonInvalid, 2, 'SyntaxError: invalid syntax'],
    [
      'python',
      CAPTURED.pythonIndent,
      3,
      "IndentationError: expected an indented block after 'if' statement on line 2",
    ],
    [
      'python',
      CAPTURED.pythonNull,
      null,
      'ValueError: source code string cannot contain null bytes',
    ],
    [
      'python',
      CAPTURED.pythonTraceback,
      3,
      "IndentationError: expected an indented block after 'if' statement on line 2",
    ],
    ['javascript', CAPTURED.nodeEndOfInput, 3, 'SyntaxError: Unexpected end of input'],
    [
      'javascript',
      CAPTURED.nodeRedeclared,
      2,
      "SyntaxError: Identifier 'x' has already been declared",
    ],
    [
      'javascript',
      CAPTURED.nodeWarningFirst,
      1,
      'SyntaxError: Cannot use import statement outside a module',
    ],
    ['javascript', CAPTURED.nodeMissingFile, null, "Error: Cannot find module '/x.js'"],
    ['typescript', CAPTURED.typescriptStripperFault, null, 'Error: memory access out of bounds'],
    [
      'typescript',
      CAPTURED.typescriptUnsupported,
      1,
      'SyntaxError: TypeScript enum is not supported in strip-only mode',
    ],
    [
      'typescript',
      CAPTURED.typescriptEsm,
      3,
      "SyntaxError: Identifier 'a' has already been declared",
    ],
  ])('%s: reads line and message', (language, stderr, line, message) => {
    expect(parseSyntaxError(language, stderr)).toEqual({ line, message });
  });

  it('falls back to a generic message for empty output', () => {
    expect(parseSyntaxError('bash', '')).toEqual({ line: null, message: 'syntax check failed' });
    expect(parseSyntaxError('typescript', '\n')).toEqual({
      line: null,
      message: 'syntax check failed',
    });
  });

  it('shortens very long messages', () => {
    const { message } = parseSyntaxError('bash', `x.sh: line 1: ${'y'.repeat(2000)}\n`);
    expect(message.length).toBe(500);
  });
});

describe('syntaxCheckError', () => {
  it('builds a SyntaxCheckError from the output', () => {
    const error = syntaxCheckError('python', CAPTURED.pythonInvalid);
    expect(error).toBeInstanceOf(SyntaxCheckError);
    expect(error).toMatchObject({ code: 'SYNTAX_ERROR', language: 'python', line: 2 });
    expect(error.message).toBe(
      'python code has a syntax error on line 2: SyntaxError: invalid syntax',
    );
  });
});

describe('syntaxCheckArgv', () => {
  it('builds the documented commands', () => {
    expect(syntaxCheckArgv('bash', '/work/main.sh')).toEqual(['bash', '-n', '/work/main.sh']);
    expect(syntaxCheckArgv('javascript', '/work/main.js')).toEqual([
      'node',
      '--check',
      '/work/main.js',
    ]);
    const python = syntaxCheckArgv('python', '/work/main.py');
    expect(python.slice(0, 7)).toEqual(['python3', '-I', '-S', '-B', '-W', 'ignore', '-c']);
    expect(python[8]).toBe('/work/main.py');
    const typescript = syntaxCheckArgv('typescript', '/work/main.ts');
    expect(typescript.slice(0, 4)).toEqual([
      'node',
      '--experimental-vm-modules',
      '--no-warnings',
      '-e',
    ]);
    expect(typescript[5]).toBe('/work/main.ts');
  });

  it('never lets a file name pass as an option', () => {
    expect(syntaxCheckArgv('bash', '-x.sh')).toEqual(['bash', '-n', './-x.sh']);
    expect(syntaxCheckArgv('javascript', 'main.js').at(-1)).toBe('./main.js');
    expect(syntaxCheckArgv('python', '../main.py').at(-1)).toBe('../main.py');
  });
});

// The argv run for real, outside the sandbox, on the tools of this machine: proves the commands
// check without running, write nothing, and print what the parser reads.
const python = ['/usr/bin/python3', 'python3'].find(
  (candidate) => spawnSync(candidate, ['--version']).status === 0,
);
const hasBash = spawnSync('bash', ['--version']).status === 0;
const nodeHasStripTypes = Number(process.versions.node.split('.')[0]) >= 23;

describe('syntax checks on real tools', () => {
  const directory = mkdtempSync(join(tmpdir(), 'runbox-syntax-'));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  function check(language: Language, name: string, source: string) {
    const file = join(directory, name);
    writeFileSync(file, source);
    const [command, ...args] = syntaxCheckArgv(language, file);
    const executable =
      command === 'node' ? process.execPath : command === 'python3' ? (python ?? command) : command;
    const result = spawnSync(executable ?? '', args, { encoding: 'utf8', cwd: directory });
    return {
      status: result.status,
      parsed: parseSyntaxError(language, result.stderr),
      stdout: result.stdout,
    };
  }

  it.skipIf(!hasBash)('bash', () => {
    expect(check('bash', 'ok.sh', 'echo ran > ran.txt\n').status).toBe(0);
    expect(existsSync(join(directory, 'ran.txt'))).toBe(false);
    const bad = check('bash', 'bad.sh', 'echo hi\nif true; then\n  echo x\n');
    expect(bad.status).not.toBe(0);
    expect(bad.parsed).toEqual({ line: 4, message: 'syntax error: unexpected end of file' });
  });

  it.skipIf(python === undefined)('python', () => {
    const ok = check('python', 'ok.py', 'print("ran")\nimport os\n');
    expect(ok).toMatchObject({ status: 0, stdout: '' });
    expect(existsSync(join(directory, '__pycache__'))).toBe(false);
    expect(check('python', 'bad.py', 'x = 1\ndef f(:\n  pass\n')).toMatchObject({
      status: 1,
      parsed: { line: 2, message: 'SyntaxError: invalid syntax' },
    });
    expect(check('python', 'ret.py', 'x = 1\nreturn x\n').parsed).toEqual({
      line: 2,
      message: "SyntaxError: 'return' outside function",
    });
  });

  it('javascript', () => {
    expect(check('javascript', 'ok.js', 'console.log("ran")\n')).toMatchObject({
      status: 0,
      stdout: '',
    });
    expect(check('javascript', 'bad.js', 'let x = 1;\nlet x = 2;\n')).toMatchObject({
      status: 1,
      parsed: { line: 2, message: "SyntaxError: Identifier 'x' has already been declared" },
    });
  });

  it.skipIf(!nodeHasStripTypes)('typescript', () => {
    const ok = check(
      'typescript',
      'ok.ts',
      'const a: number = 1;\ninterface I { x: string }\nconsole.log(a as number);\n',
    );
    expect(ok).toMatchObject({ status: 0, stdout: '' });
    // A type error is not a syntax error: stripping does not type-check.
    expect(check('typescript', 'typed.ts', 'const a: number = "s";\n').status).toBe(0);
    expect(
      check(
        'typescript',
        'esm.ts',
        'import fs from "node:fs";\nawait 1;\nexport const b: number = 2;\n',
      ).status,
    ).toBe(0);
    expect(check('typescript', 'bad.ts', 'const a: number = 1;\nconst b: = 2;\n').parsed.line).toBe(
      2,
    );
    expect(check('typescript', 'enum.ts', 'const a = 1;\nenum E { A }\n').parsed).toEqual({
      line: 2,
      message: 'SyntaxError: TypeScript enum is not supported in strip-only mode',
    });
    expect(check('typescript', 'cjs.ts', 'let a: number = 1;\nlet a = 2;\n').parsed).toEqual({
      line: 2,
      message: "SyntaxError: Identifier 'a' has already been declared",
    });
    // Without ES module syntax the file is checked as CommonJS, as Node would run it: sloppy
    // mode, so `yield` is a name and the first error is the redeclaration.
    expect(
      check('typescript', 'sloppy.ts', 'var yield = 1;\nlet a = 1;\nlet a = 2;\n').parsed.line,
    ).toBe(3);
    expect(
      check('typescript', 'esmbad.ts', 'import fs from "node:fs";\nlet a = 1;\nlet a = 2;\n')
        .parsed,
    ).toEqual({ line: 3, message: "SyntaxError: Identifier 'a' has already been declared" });
  });
});
