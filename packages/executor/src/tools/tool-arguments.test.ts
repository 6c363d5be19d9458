import { describe, expect, it } from 'vitest';
import { loadToolRegistry } from './tool-registry.ts';
import { ToolArgvError } from './tool-argv.ts';
import {
  readToolArguments,
  toolArgumentsSchema,
  type ProjectListing,
  type ToolArguments,
} from './tool-arguments.ts';

const project: ProjectListing = {
  files: [
    'conftest.py',
    'src/calc/__init__.py',
    'tests/test_add.py',
    'tests/helpers.js',
    'tests/add.test.js',
    'bin/deploy',
  ],
  directories: ['src', 'src/calc', 'tests', 'bin'],
  links: ['docs'],
};

const pytestLike: ToolArguments = toolArgumentsSchema.parse({
  description: 'pytest',
  options: [
    { name: '-k', value: { kind: 'text', name: 'EXPRESSION' }, description: 'k' },
    { name: '-x', aliases: ['--exitfirst'], description: 'x' },
    {
      name: '--maxfail',
      value: { kind: 'integer', name: 'N', min: 1, max: 10 },
      form: 'joined',
      description: 'm',
    },
    {
      name: '--tb',
      value: { kind: 'choice', oneOf: ['short', 'no'] },
      form: 'joined',
      description: 't',
    },
    {
      name: '-e',
      value: { kind: 'pattern', name: 'CODES', pattern: '^SC[0-9]{4}$', example: 'SC2086' },
      repeatable: true,
      description: 'e',
    },
  ],
  operands: {
    value: { kind: 'path', name: 'PATH', testId: true },
    max: 3,
    description: 'paths',
  },
});

function refusal(
  declaration: ToolArguments | undefined,
  args: string[],
): { field: string | undefined; rule: string | undefined; message: string } {
  try {
    readToolArguments('tool', declaration, args, project);
  } catch (error) {
    if (error instanceof ToolArgvError)
      return { field: error.field, rule: error.rule, message: error.message };
    throw error;
  }
  throw new Error(`${JSON.stringify(args)} was not refused`);
}

describe('readToolArguments', () => {
  it('reads options in their spellings and passes them on in their declared form', () => {
    expect(
      readToolArguments(
        'pytest',
        pytestLike,
        ['-k', 'add and not slow', '--exitfirst', '--maxfail', '3', '--tb=short', 'tests'],
        project,
      ),
    ).toEqual({
      options: ['-k', 'add and not slow', '-x', '--maxfail=3', '--tb=short'],
      operands: ['tests'],
    });
    expect(
      readToolArguments('pytest', pytestLike, ['-kadd', '-e', 'SC1000', '-eSC2000'], project),
    ).toEqual({ options: ['-k', 'add', '-e', 'SC1000', '-e', 'SC2000'], operands: [] });
  });

  it('takes paths inside the project: files, directories, test ids, the project itself', () => {
    expect(
      readToolArguments(
        'pytest',
        pytestLike,
        ['./tests/', 'tests/test_add.py::test_one', '.'],
        project,
      ).operands,
    ).toEqual(['tests', 'tests/test_add.py::test_one', '.']);
    // Under a link of the project: the sandbox resolves it, never the host.
    expect(readToolArguments('pytest', pytestLike, ['docs/x.py'], project).operands).toEqual([
      'docs/x.py',
    ]);
  });

  it('refuses paths that leave the project or are not in it, naming the argument and the rule', () => {
    expect(refusal(pytestLike, ['-x', '../secret'])).toMatchObject({
      field: 'args.1',
      rule: 'path-traversal',
    });
    expect(refusal(pytestLike, ['tests/../../x'])).toMatchObject({ rule: 'path-traversal' });
    expect(refusal(pytestLike, ['/etc/passwd'])).toMatchObject({
      field: 'args.0',
      rule: 'absolute-path',
    });
    expect(refusal(pytestLike, ['tests/nope.py'])).toMatchObject({ rule: 'not-found' });
    expect(refusal(pytestLike, ['tests::x'])).toMatchObject({ rule: 'not-a-file' });
    expect(refusal(pytestLike, ['a\\b'])).toMatchObject({ rule: 'backslash' });
    const message = refusal(pytestLike, ['-k', 'x', '/abs']).message;
    expect(message).toContain('args.2');
    expect(message).toContain('/abs');
  });

  it('refuses options it does not declare, values out of their rule, repeats and missing values', () => {
    const unknown = refusal(pytestLike, ['--rootdir=/']);
    expect(unknown).toMatchObject({ field: 'args.0', rule: 'unknown-option' });
    expect(unknown.message).toContain('--rootdir');
    expect(unknown.message).toContain('-k, -x, --maxfail');
    expect(refusal(pytestLike, ['--maxfail=0'])).toMatchObject({ rule: 'out-of-range' });
    expect(refusal(pytestLike, ['--maxfail', 'many'])).toMatchObject({
      field: 'args.1',
      rule: 'not-an-integer',
    });
    expect(refusal(pytestLike, ['--tb=long'])).toMatchObject({ rule: 'not-a-choice' });
    expect(refusal(pytestLike, ['-e', 'x'])).toMatchObject({ rule: 'pattern' });
    expect(refusal(pytestLike, ['-x', '-x'])).toMatchObject({
      field: 'args.1',
      rule: 'repeated-option',
    });
    expect(refusal(pytestLike, ['-k'])).toMatchObject({ rule: 'missing-value' });
    expect(refusal(pytestLike, ['--exitfirst=1'])).toMatchObject({ rule: 'unexpected-value' });
    expect(refusal(pytestLike, ['tests', 'tests', 'tests', 'tests'])).toMatchObject({
      field: 'args.3',
      rule: 'too-many-operands',
    });
  });

  it('refuses any argument for a tool that declares none', () => {
    expect(refusal(undefined, ['x'])).toMatchObject({ field: 'args.0', rule: 'no-arguments' });
    expect(readToolArguments('tool', undefined, [], project)).toEqual({
      options: [],
      operands: [],
    });
  });

  it('gives a program every argument as it is, dashes included', async () => {
    const python = (await loadToolRegistry()).find('python');
    expect(
      readToolArguments('python', python?.arguments, ['--flag', '-x', '', '../x'], project),
    ).toEqual({ options: [], operands: ['--flag', '-x', '', '../x'] });
  });

  it('checks node --test globs against the project with Node’s own matcher', async () => {
    const nodeTest = (await loadToolRegistry()).find('node-test');
    const read = (args: string[]) =>
      readToolArguments('node-test', nodeTest?.arguments, args, project);
    expect(read(['--test-name-pattern=add', 'tests/**/*.test.js']).operands).toEqual([
      'tests/**/*.test.js',
    ]);
    expect(read(['--test-name-pattern=add']).options).toEqual(['--test-name-pattern=add']);
    const rule = (args: string[]): string | undefined => {
      try {
        read(args);
      } catch (error) {
        return (error as ToolArgvError).rule;
      }
      return undefined;
    };
    expect(rule(['tests/**/*.spec.js'])).toBe('no-match');
    expect(rule(['../**/*.js'])).toBe('path-traversal');
    expect(rule(['/tmp/*.js'])).toBe('absolute-path');
  });

  it('checks the shipped declarations: ShellCheck files, tsc project, pytest paths', async () => {
    const registry = await loadToolRegistry();
    const read = (id: string, args: string[]) =>
      readToolArguments(id, registry.find(id)?.arguments, args, project);
    expect(read('shellcheck', ['-s', 'bash', '--exclude', 'SC2086', 'bin/deploy'])).toEqual({
      options: ['-s', 'bash', '-e', 'SC2086'],
      operands: ['bin/deploy'],
    });
    expect(() => read('shellcheck', ['bin'])).toThrow(/bin is a directory/);
    expect(read('tsc', ['--project', 'src'])).toEqual({ options: ['-p', 'src'], operands: [] });
    expect(() => read('tsc', ['src'])).toThrow(/takes options only/);
    expect(read('pytest', ['-k', 'add', 'tests/test_add.py']).operands).toEqual([
      'tests/test_add.py',
    ]);
    expect(read('cloc', ['--exclude-dir=vendor,dist', 'src']).options).toEqual([
      '--exclude-dir=vendor,dist',
    ]);
    expect(read('eslint', ['--max-warnings', '-1', 'tests']).options).toEqual([
      '--max-warnings',
      '-1',
    ]);
  });
});

describe('toolArgumentsSchema', () => {
  it('refuses a spelling declared twice, a bad pattern and a joined short option', () => {
    const issues = (declaration: unknown): string[] =>
      toolArgumentsSchema.safeParse(declaration).error?.issues.map((issue) => issue.message) ?? [];
    expect(
      issues({
        description: 'd',
        options: [
          { name: '-x', description: 'a' },
          { name: '--x', aliases: ['-x'], description: 'b' },
        ],
      }),
    ).toEqual(['-x is declared twice']);
    expect(
      issues({
        description: 'd',
        options: [
          {
            name: '-e',
            value: { kind: 'pattern', name: 'P', pattern: '(', example: 'x' },
            description: 'e',
          },
        ],
      }).length,
    ).toBe(1);
    expect(
      issues({
        description: 'd',
        options: [
          { name: '-k', value: { kind: 'text', name: 'E' }, form: 'joined', description: 'k' },
        ],
      }),
    ).toEqual(['only a long option (--name) is passed joined (--name=value)']);
  });
});
