import { describe, expect, it } from 'vitest';
import {
  applicableFiles,
  applicableTools,
  filesMatching,
  hasNoExtension,
  matchesGlob,
  shebangInterpreter,
  ToolNotApplicableError,
  toolAppliesTo,
} from './tool-applies.ts';

describe('matchesGlob', () => {
  it('matches a glob without a slash against the name at any depth', () => {
    expect(matchesGlob('a.py', '*.py')).toBe(true);
    expect(matchesGlob('src/deep/a.py', '*.py')).toBe(true);
    expect(matchesGlob('a.pyc', '*.py')).toBe(false);
    expect(matchesGlob('src/test_x.py', 'test_*.py')).toBe(true);
  });

  it('anchors a glob with a leading slash at the root', () => {
    expect(matchesGlob('main.py', '/main.py')).toBe(true);
    expect(matchesGlob('src/main.py', '/main.py')).toBe(false);
  });

  it('matches a glob with a slash against the whole path', () => {
    expect(matchesGlob('src/a.ts', 'src/*.ts')).toBe(true);
    expect(matchesGlob('lib/src/a.ts', 'src/*.ts')).toBe(false);
    expect(matchesGlob('src/x/a.ts', 'src/*.ts')).toBe(false);
  });

  it('lets ** cross directories, * and ? stay within one', () => {
    expect(matchesGlob('test/a.js', 'test/**/*.js')).toBe(true);
    expect(matchesGlob('test/x/y/a.js', 'test/**/*.js')).toBe(true);
    expect(matchesGlob('a/b/c', '**')).toBe(true);
    expect(matchesGlob('test/x/y', 'test/**')).toBe(true);
    expect(matchesGlob('ab.sh', '??.sh')).toBe(true);
    expect(matchesGlob('a/b.sh', '???.sh')).toBe(false);
  });

  it('takes regex characters literally', () => {
    expect(matchesGlob('a+b(1).txt', 'a+b(1).txt')).toBe(true);
    expect(matchesGlob('aXtxt', 'a.txt')).toBe(false);
  });
});

describe('toolAppliesTo', () => {
  const pytest = { appliesTo: { anyOf: ['test_*.py', '*_test.py'] } };
  const python = { appliesTo: { anyOf: ['/main.py'] } };

  it('applies when any file matches any glob', () => {
    expect(toolAppliesTo(pytest, ['cart.py', 'tests/test_cart.py'])).toBe(true);
    expect(toolAppliesTo(pytest, ['cart_test.py'])).toBe(true);
    expect(toolAppliesTo(pytest, ['cart.py'])).toBe(false);
    expect(toolAppliesTo(python, [])).toBe(false);
  });

  it('filters a tool list, keeping its order', () => {
    expect(applicableTools([python, pytest], ['main.py', 'test_a.py'])).toEqual([python, pytest]);
    expect(applicableTools([python, pytest], ['src/main.py'])).toEqual([]);
  });

  it('lists the matching files in their order', () => {
    expect(filesMatching(['b.sh', 'a.py', 'x/a.sh'], ['*.sh'])).toEqual(['b.sh', 'x/a.sh']);
  });
});

describe('shebangInterpreter', () => {
  it('names the interpreter of a shebang, through env and its options', () => {
    expect(shebangInterpreter('#!/bin/sh\necho hi\n')).toBe('sh');
    expect(shebangInterpreter('#! /usr/bin/bash -e\n')).toBe('bash');
    expect(shebangInterpreter('#!/usr/bin/env bash\r\n')).toBe('bash');
    expect(shebangInterpreter('#!/usr/bin/env -S bash -eu\n')).toBe('bash');
    expect(shebangInterpreter('#!/usr/bin/env -i LC_ALL=C dash\n')).toBe('dash');
    expect(shebangInterpreter('#!/usr/bin/env python3\n')).toBe('python3');
  });

  it('finds none without a shebang on the first line', () => {
    expect(shebangInterpreter('echo hi\n#!/bin/sh\n')).toBeNull();
    expect(shebangInterpreter(' #!/bin/sh')).toBeNull();
    expect(shebangInterpreter('#!\n')).toBeNull();
    expect(shebangInterpreter('#!/usr/bin/env\n')).toBeNull();
  });
});

describe('applicableFiles', () => {
  const shellcheck = { appliesTo: { anyOf: ['*.sh', '*.bash'], shebangs: ['sh', 'bash'] } };
  const heads: Record<string, string> = {
    deploy: '#!/usr/bin/env bash\nset -e\n',
    'bin/setup': '#!/bin/sh\n',
    'bin/tool': '#!/usr/bin/env python3\n',
    README: 'Read me\n',
    'notes.txt': '#!/bin/sh\n',
  };
  const read = (path: string) =>
    Promise.resolve(heads[path] === undefined ? null : Buffer.from(heads[path]));

  it('adds files without an extension whose shebang names one of the interpreters', async () => {
    const files = ['a.sh', 'deploy', 'bin/setup', 'bin/tool', 'README', 'notes.txt', 'link'];
    expect(await applicableFiles(shellcheck, files, read)).toEqual(['a.sh', 'bin/setup', 'deploy']);
  });

  it('reads no file for a tool without shebangs, and names no extension right', async () => {
    const reads: string[] = [];
    const files = ['deploy', 'b.sh'];
    expect(
      await applicableFiles({ appliesTo: { anyOf: ['*.sh'] } }, files, (path) => {
        reads.push(path);
        return Promise.resolve(null);
      }),
    ).toEqual(['b.sh']);
    expect(reads).toEqual([]);
    expect(hasNoExtension('bin/deploy')).toBe(true);
    expect(hasNoExtension('.envrc')).toBe(true);
    expect(hasNoExtension('a.sh')).toBe(false);
    expect(hasNoExtension('dir.d/run')).toBe(true);
  });
});

describe('ToolNotApplicableError', () => {
  it('says what was looked for, and how to run the tool anyway', () => {
    expect(new ToolNotApplicableError('python', ['/main.py']).message).toBe(
      'the tool "python" does not apply to this project: no file matches /main.py (name an entry file to run it anyway)',
    );
    const shellcheck = new ToolNotApplicableError('shellcheck', ['*.sh', '*.bash'], {
      shebangs: ['sh', 'bash'],
      takesEntry: false,
      takesOperands: true,
    });
    expect(shellcheck.message).toContain('no file matches *.sh, *.bash');
    expect(shellcheck.message).toContain('starts with a sh, bash shebang');
    expect(shellcheck.message).not.toContain('entry');
    expect(shellcheck.message).toContain('name the files in its arguments');
  });
});
