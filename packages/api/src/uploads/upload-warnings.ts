import type { LinkRefusalRule } from '@runbox/executor';
import { printableName } from './printable-name.ts';

/**
 * What an upload left out without refusing it: a symbolic link whose target leaves the project
 * (or is absolute, or unusable), a hard link that names no earlier file of the upload. The upload
 * goes on without the entry; the answer lists each.
 */

export const UPLOAD_WARNING_RULES = [
  'link-absolute',
  'link-outside',
  'link-invalid',
  'hardlink-unresolved',
] as const satisfies readonly (LinkRefusalRule | 'hardlink-unresolved')[];

export type UploadWarningRule = (typeof UPLOAD_WARNING_RULES)[number];

// Every rule of the executor's link check is one of these (a compile-time check).
const _everyLinkRule: readonly UploadWarningRule[] = [] as LinkRefusalRule[];

export interface UploadWarning {
  /** The entry's name as it appeared in the upload, made printable. */
  entry: string;
  rule: UploadWarningRule;
  /** What was left out and why, in words. */
  detail: string;
}

export function uploadWarning(entry: string, rule: UploadWarningRule, why: string): UploadWarning {
  return { entry: printableName(entry), rule, detail: `left out: ${printableName(why, 400)}` };
}
