import { describe, expect, it } from 'vitest';
import { applicableTools, filesMatching, matchesGlob, toolAppliesTo } from './tool-applies.ts';

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
