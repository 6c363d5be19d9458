import { describe, expect, it } from 'vitest';
import {
  argsFromInputs,
  EMPTY_ARGUMENT_INPUTS,
  envFromText,
  inputsFromArgs,
  textFromEnv,
  valueHint,
  type ToolArgumentsView,
} from './tool-arguments';

const pytest: ToolArgumentsView = {
  description: 'Options of pytest, then paths.',
  options: [
    {
      name: '-k',
      aliases: [],
      value: { kind: 'text', name: 'EXPRESSION' },
      repeatable: false,
      description: 'k',
    },
    { name: '-x', aliases: ['--exitfirst'], value: null, repeatable: false, description: 'x' },
    {
      name: '--maxfail',
      aliases: [],
      value: { kind: 'integer', name: 'N', min: 1, max: 100 },
      repeatable: false,
      description: 'm',
    },
  ],
  operands: {
    value: { kind: 'path', name: 'PATH', accepts: 'any', testId: true },
    max: 64,
    description: 'paths',
    default: [],
  },
};

const python: ToolArgumentsView = {
  description: 'Arguments for the program.',
  options: [],
  operands: { value: { kind: 'text', name: 'ARGUMENT' }, max: 100, description: 'a', default: [] },
};

describe('tool arguments in the form', () => {
  it('puts the options in the tool’s order, then the operands, one per line', () => {
    expect(
      argsFromInputs(pytest, {
        options: { '--maxfail': ' 3 ', '-x': 'on', '-k': 'add and not slow' },
        operands: 'tests/unit\r\n\ntests/test_a.py::test_one\n',
      }),
    ).toEqual([
      '-k',
      'add and not slow',
      '-x',
      '--maxfail',
      '3',
      'tests/unit',
      'tests/test_a.py::test_one',
    ]);
    expect(argsFromInputs(pytest, EMPTY_ARGUMENT_INPUTS)).toEqual([]);
    expect(argsFromInputs(null, { options: { '-k': 'x' }, operands: 'a' })).toEqual([]);
  });

  it('reads a run’s args back, by any spelling, for “run again”', () => {
    const inputs = inputsFromArgs(pytest, ['--exitfirst', '-k', 'add', '--maxfail=2', 'tests']);
    expect(inputs).toEqual({
      options: { '-x': 'on', '-k': 'add', '--maxfail': '2' },
      operands: 'tests',
    });
    expect(argsFromInputs(pytest, inputs)).toEqual(['-k', 'add', '-x', '--maxfail', '2', 'tests']);
    // A program's own arguments are all operands, dashes and all.
    expect(inputsFromArgs(python, ['-k', '--x=1'])).toEqual({ options: {}, operands: '-k\n--x=1' });
  });

  it('reads NAME=value lines, and says which line is not one', () => {
    expect(envFromText('GREETING=hello world\n\nEMPTY=\nURL=a=b\n')).toEqual({
      env: { GREETING: 'hello world', EMPTY: '', URL: 'a=b' },
    });
    expect(envFromText('OK=1\nnot a variable')).toEqual({
      error: 'line 2: write NAME=value',
      line: 2,
    });
    expect(textFromEnv({ A: '1', B: 'two' })).toBe('A=1\nB=two');
    expect(textFromEnv(undefined)).toBe('');
  });

  it('hints at each value', () => {
    expect(valueHint({ kind: 'integer', name: 'N', min: 1, max: 9 })).toBe('N, 1 to 9');
    expect(valueHint({ kind: 'pattern', name: 'CODES', pattern: '.', example: 'SC2086' })).toBe(
      'e.g. SC2086',
    );
    expect(valueHint({ kind: 'glob', name: 'GLOB' })).toBe('GLOB');
  });
});
