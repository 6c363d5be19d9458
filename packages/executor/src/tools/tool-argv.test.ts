import { describe, expect, it } from 'vitest';
import {
  chooseEntry,
  expandFixedPlaceholders,
  expandToolArgv,
  parsePlaceholders,
  placeholdersIn,
  ToolArgvError,
} from './tool-argv.ts';

const files = ['main.py', 'b.sh', 'lib/a.sh', 'notes.txt'];

describe('expandToolArgv', () => {
  it('fills in {workspace}, {tools} and {entry}, also inside an argument', () => {
    expect(
      expandToolArgv(['python3', '{entry}', '--out={workspace}/out', '{tools}/bin/x'], {
        files,
        entry: 'main.py',
      }),
    ).toEqual(['python3', 'main.py', '--out=/workspace/out', '/opt/runbox/tools/bin/x']);
  });

  it('expands {files:GLOB} into one sorted argument per file, or none', () => {
    expect(expandToolArgv(['shellcheck', '{files:*.sh}', '{files:*.bash}'], { files })).toEqual([
      'shellcheck',
      'b.sh',
      'lib/a.sh',
    ]);
  });

  it('expands {files} to the files the tool applies to, and {args} to the run’s arguments', () => {
    expect(
      expandToolArgv(['shellcheck', '{args}', '{files}'], {
        files,
        applicable: ['lib/a.sh', '-x', 'b.sh'],
        args: ['-S', 'warning'],
      }),
    ).toEqual(['shellcheck', '-S', 'warning', './-x', 'b.sh', 'lib/a.sh']);
    expect(expandToolArgv(['x', '{args}'], { files })).toEqual(['x']);
    expect(() => expandToolArgv(['x', '{files}'], { files })).toThrow(/applies to are not known/);
    expect(() => expandToolArgv(['x', '-a{args}'], { files })).toThrow(/whole argument/);
  });

  it('keeps a file or entry name from being read as an option', () => {
    expect(expandToolArgv(['cat', '{files:*.txt}'], { files: ['-n.txt'] })).toEqual([
      'cat',
      './-n.txt',
    ]);
    expect(expandToolArgv(['python3', '{entry}'], { files: [], entry: '-c.py' })).toEqual([
      'python3',
      './-c.py',
    ]);
  });

  it('turns {{ and }} into literal braces', () => {
    expect(expandToolArgv(['echo', '{{x}}', 'a}}b'], { files })).toEqual(['echo', '{x}', 'a}b']);
  });

  it('refuses unknown placeholders, naming the argument', () => {
    expect(() => expandToolArgv(['run', '{projectDir}'], { files })).toThrow(ToolArgvError);
    expect(() => expandToolArgv(['run', '{projectDir}'], { files })).toThrow(
      /"\{projectDir\}": unknown placeholder \{projectDir\}/,
    );
  });

  it('refuses {entry} without an entry, and {files:} inside a longer argument', () => {
    expect(() => expandToolArgv(['python3', '{entry}'], { files })).toThrow(/no entry file/);
    expect(() => expandToolArgv(['x', '--f={files:*.sh}'], { files })).toThrow(
      /must be a whole argument/,
    );
  });

  it('refuses stray braces and an argv that expands to no program', () => {
    expect(() => expandToolArgv(['echo', '{oops'], { files })).toThrow(/unclosed/);
    expect(() => expandToolArgv(['echo', 'oops}'], { files })).toThrow(/stray/);
    expect(() => expandToolArgv(['{files:*.none}'], { files })).toThrow(/no program/);
  });
});

describe('placeholders', () => {
  it('lists the placeholders of a text', () => {
    expect(placeholdersIn('{tools}/x/{entry}{{y}}')).toEqual(['tools', 'entry']);
    expect(parsePlaceholders('a{b}c')).toEqual([
      { literal: 'a' },
      { placeholder: 'b' },
      { literal: 'c' },
    ]);
  });

  it('expands only the fixed placeholders in env values and binaries', () => {
    expect(expandFixedPlaceholders('{tools}/bin:/usr/bin')).toBe('/opt/runbox/tools/bin:/usr/bin');
    expect(() => expandFixedPlaceholders('{entry}')).toThrow(ToolArgvError);
  });
});

describe('chooseEntry', () => {
  it('takes the first candidate the project has', () => {
    expect(chooseEntry(['index.js', 'main.py'], files)).toBe('main.py');
    expect(chooseEntry(['index.js'], files)).toBeUndefined();
    expect(chooseEntry(undefined, files)).toBeUndefined();
  });

  it("takes the run's own choice when it is a file of the project", () => {
    expect(chooseEntry(['main.py'], files, 'lib/a.sh')).toBe('lib/a.sh');
    expect(() => chooseEntry(['main.py'], files, '../etc/passwd')).toThrow(/not a file/);
  });
});
