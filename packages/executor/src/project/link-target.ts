/**
 * Which symbolic links a project keeps: the one rule, shared by uploads, the worker's bundles and
 * the host's copies of a project. Pure: nothing is resolved on any filesystem.
 *
 * A link is kept when its target is relative and stays inside the project: `.` and empty names
 * dropped, `..` only at the target's start and never above the project's root. A `..` after a
 * name (`a/../b`) is not kept although it may look inside: the kernel applies it to wherever `a`
 * led, and `a` may be a link itself (`a -> .` at the root makes `a/..` the root's parent). So a
 * project's links, followed one after the other inside the sandbox, never leave it. The host never
 * follows one either way.
 */

/** Bytes of a target at most; a real project's links are short. */
export const MAX_LINK_TARGET_BYTES = 1_024;

export type LinkRefusalRule = 'link-absolute' | 'link-outside' | 'link-invalid';

export interface LinkRefusal {
  rule: LinkRefusalRule;
  /** Why, in words, for a warning that names the link. */
  message: string;
}

/**
 * Null when the link at `linkPath` (a normalised relative path: names joined by "/") may be kept
 * with this target; otherwise why not.
 */
export function linkTargetRefusal(linkPath: string, target: string): LinkRefusal | null {
  if (target === '') return { rule: 'link-invalid', message: 'its target is empty' };
  if (target.includes('\0'))
    return { rule: 'link-invalid', message: 'its target holds a NUL byte' };
  if (Buffer.byteLength(target, 'utf8') > MAX_LINK_TARGET_BYTES)
    return {
      rule: 'link-invalid',
      message: `its target is longer than ${MAX_LINK_TARGET_BYTES} bytes`,
    };
  if (target.startsWith('/'))
    return {
      rule: 'link-absolute',
      message: `it points at the absolute path ${target}, which is not the project's`,
    };
  const names = target.split('/').filter((name) => name !== '' && name !== '.');
  const climbs = names.findIndex((name) => name !== '..');
  const ups = climbs === -1 ? names.length : climbs;
  if (names.slice(ups).includes('..'))
    return {
      rule: 'link-outside',
      message: 'its target goes back up (..) after a name; only leading .. are kept',
    };
  const depth = linkPath.split('/').length - 1;
  if (ups > depth)
    return { rule: 'link-outside', message: `it points at ${target}, outside the project` };
  return null;
}
