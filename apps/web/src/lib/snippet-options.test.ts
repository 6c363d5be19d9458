import { describe, expect, it } from 'vitest';
import {
  argsFromLines,
  EMPTY_SNIPPET_OPTIONS,
  optionsFromRun,
  snippetAdditions,
} from './snippet-options';

describe('snippetAdditions', () => {
  it('adds nothing for options left alone', () => {
    expect(snippetAdditions(EMPTY_SNIPPET_OPTIONS)).toEqual({ additions: {} });
  });

  it('sends each option that is set', () => {
    expect(
      snippetAdditions({
        interactive: true,
        tty: false,
        argsText: '--name\r\nAda Lovelace\n\n',
        envText: 'GREETING=hi there\nEMPTY=',
        expectedOutput: 'hello\n',
      }),
    ).toEqual({
      additions: {
        interactive: true,
        args: ['--name', 'Ada Lovelace'],
        env: { GREETING: 'hi there', EMPTY: '' },
        expectedOutput: 'hello\n',
      },
    });
  });

  it('runs in a terminal of the default size, which implies interactive', () => {
    expect(snippetAdditions({ ...EMPTY_SNIPPET_OPTIONS, tty: true })).toEqual({
      additions: { interactive: true, tty: { cols: 100, rows: 30 } },
    });
  });

  it('names a variable line without a name', () => {
    expect(snippetAdditions({ ...EMPTY_SNIPPET_OPTIONS, envText: 'A=1\n=2' })).toEqual({
      error: 'line 2: write NAME=value',
    });
  });
});

describe('argsFromLines and optionsFromRun', () => {
  it('keeps spaces inside an argument', () => {
    expect(argsFromLines('  two words \n')).toEqual(['  two words ']);
  });

  it('sets the form up as the run was, but for its expected output', () => {
    expect(
      optionsFromRun({ interactive: true, args: ['a', 'b c'], env: { X: '1', Y: 'two' } }),
    ).toEqual({
      interactive: true,
      tty: false,
      argsText: 'a\nb c',
      envText: 'X=1\nY=two',
      expectedOutput: '',
    });
    expect(optionsFromRun({ interactive: true, tty: { cols: 80, rows: 24 } })).toEqual({
      ...EMPTY_SNIPPET_OPTIONS,
      interactive: true,
      tty: true,
    });
    expect(optionsFromRun({})).toEqual(EMPTY_SNIPPET_OPTIONS);
  });
});
