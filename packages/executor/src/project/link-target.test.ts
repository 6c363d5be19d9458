import { describe, expect, it } from 'vitest';
import { linkTargetRefusal, MAX_LINK_TARGET_BYTES } from './link-target.ts';

describe('linkTargetRefusal', () => {
  it.each([
    ['CLAUDE.md', 'AGENTS.md'],
    ['CLAUDE.md', './AGENTS.md'],
    ['docs/readme', '../README.md'],
    ['a/b/c', '../../x/y'],
    ['a/b/c', '../..'],
    ['a/b', 'c//d/./e'],
    ['self', '.'],
    ['dangling', 'not-there'],
  ])('keeps %s -> %s', (path, target) => {
    expect(linkTargetRefusal(path, target)).toBeNull();
  });

  it.each([
    ['passwd', '/etc/passwd', 'link-absolute'],
    ['root', '/', 'link-absolute'],
    ['up', '..', 'link-outside'],
    ['a/up', '../..', 'link-outside'],
    ['a/b/c', '../../../x', 'link-outside'],
    // Inside to the eye, but `a` may itself be a link: a `..` after a name is not kept.
    ['x', 'deep/..', 'link-outside'],
    ['x', 'a/../b', 'link-outside'],
    ['empty', '', 'link-invalid'],
    ['nul', 'a\0b', 'link-invalid'],
    ['long', 'a'.repeat(MAX_LINK_TARGET_BYTES + 1), 'link-invalid'],
  ])('drops %s -> %s (%s)', (path, target, rule) => {
    expect(linkTargetRefusal(path, target)?.rule).toBe(rule);
  });

  it('says what is wrong', () => {
    expect(linkTargetRefusal('passwd', '/etc/passwd')?.message).toContain('/etc/passwd');
    expect(linkTargetRefusal('up', '../x')?.message).toContain('outside the project');
  });
});
