import { describe, expect, it } from 'vitest';
import { satisfies } from './semver-select.ts';

describe("Piston's version selectors", () => {
  it.each([
    ['*', true],
    ['x', true],
    ['', true],
    ['3', true],
    ['3.x', true],
    ['3.11', true],
    ['3.11.x', true],
    ['3.11.2', true],
    ['v3.11.2', true],
    ['=3.11.2', true],
    ['3.11.3', false],
    ['3.10', false],
    ['2', false],
    ['>=3.10', true],
    ['>= 3.10.0 <4', true],
    ['>3.11', false],
    ['>3.11.1', true],
    ['<3.11.2', false],
    ['<=3.11', true],
    ['^3.10.0', true],
    ['^3.12.0', false],
    ['~3.11.0', true],
    ['~3.10.0', false],
    ['2.x || 3.x', true],
    ['2.x || 4.x', false],
  ])('3.11.2 against %j: %s', (selector, expected) => {
    expect(satisfies('3.11.2', selector)).toBe(expected);
  });

  it('keeps the first number that is not 0 with ^', () => {
    expect(satisfies('0.2.9', '^0.2.3')).toBe(true);
    expect(satisfies('0.3.0', '^0.2.3')).toBe(false);
  });

  it('says when it does not understand a selector', () => {
    expect(satisfies('3.11.2', 'latest')).toBeNull();
    expect(satisfies('3.11.2', '3.11.2-beta')).toBeNull();
    expect(satisfies('3.11.2', '1.2.3.4')).toBeNull();
  });
});
