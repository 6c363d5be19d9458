import { describe, expect, it } from 'vitest';
import { DEFAULT_WARM_SIZES, parseWarmSizes } from './warm-sizes.ts';

describe('parseWarmSizes', () => {
  it('reads sizes per language, and the default', () => {
    expect(parseWarmSizes('python=3, javascript=0')).toEqual({ python: 3, javascript: 0 });
    expect(parseWarmSizes(DEFAULT_WARM_SIZES)).toEqual({ python: 2, javascript: 1, typescript: 1 });
  });

  it.each(['', '0', 'off'])('turns warm sandboxes off with %j', (text) => {
    expect(parseWarmSizes(text)).toEqual({});
  });

  it.each([
    ['python', /not language=count/],
    ['python=-1', /not language=count/],
    ['ruby=1', /not a language/],
    ['bash=1', /no warm runner/],
    ['python=1,python=2', /named twice/],
    ['python=17', /above 16/],
  ])('refuses %j, naming the rule', (text, message) => {
    expect(() => parseWarmSizes(text)).toThrow(message);
  });
});
