import { UploadRejectedError, type UploadRejectionRule } from './upload-errors.ts';
import type { UploadLimits } from './upload-limits.ts';

/**
 * Validation and normalisation of one entry path from an upload (an archive entry name or a
 * loose file's relative path). Pure: no filesystem access. The result only ever names a place
 * inside the project directory.
 */

export type EntryPathLimits = Pick<
  UploadLimits,
  'maxPathDepth' | 'maxPathBytes' | 'maxComponentBytes'
>;

export interface EntryPath {
  /** The normalised path: NFC, '/'-separated, no leading "./", no trailing '/'. */
  path: string;
  /** Its components; never empty, never '.', '..' or ''. */
  components: readonly string[];
  /** The name ended with '/', which in zip and old tar marks a directory. */
  trailingSlash: boolean;
}

/** First C0 control (NUL included), DEL or C1 control in the name, or -1. */
function firstControlCharacter(name: string): number {
  for (let index = 0; index < name.length; index += 1) {
    const code = name.charCodeAt(index);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return code;
  }
  return -1;
}

const DRIVE_LETTER = /^[A-Za-z]:/;

/**
 * Returns the normalised path, or null when the name is the project root itself ("." or "./",
 * which `tar -C dir .` writes first). Throws UploadRejectedError naming the rule otherwise.
 */
export function normalizeEntryPath(raw: string, limits: EntryPathLimits): EntryPath | null {
  const reject = (
    rule: UploadRejectionRule,
    detail: string,
    limit?: number,
    actual?: number,
  ): never => {
    throw new UploadRejectedError({ rule, entry: raw, detail, limit, actual });
  };

  if (raw.length === 0) reject('invalid-component', 'the name is empty');
  const code = firstControlCharacter(raw);
  if (code !== -1) {
    reject(
      'control-character',
      code === 0
        ? 'NUL bytes are not allowed in names'
        : `control character U+${code.toString(16).toUpperCase().padStart(4, '0')} is not allowed in names`,
    );
  }
  if (!raw.isWellFormed()) reject('invalid-encoding', 'the name is not valid Unicode');
  if (raw.startsWith('/') || raw.startsWith('\\')) {
    reject('absolute-path', 'paths must be relative to the project root');
  }
  if (DRIVE_LETTER.test(raw)) {
    reject('drive-letter', 'paths must be relative to the project root');
  }
  if (raw.split(/[/\\]/).includes('..')) {
    reject('path-traversal', '.. components are not allowed');
  }
  if (raw.includes('\\')) {
    reject('backslash', 'use / to separate directories; \\ is not allowed in names');
  }

  let rest = raw.normalize('NFC');
  while (rest.startsWith('./')) rest = rest.slice(2);
  if (rest === '' || rest === '.') return null;
  if (DRIVE_LETTER.test(rest)) {
    reject('drive-letter', 'paths must be relative to the project root');
  }
  const trailingSlash = rest.endsWith('/');
  if (trailingSlash) rest = rest.slice(0, -1);

  const components = rest.split('/');
  if (components.includes('')) {
    reject('invalid-component', 'empty path components ("//") are not allowed');
  }
  if (components.includes('.')) {
    reject('invalid-component', '"." components are only allowed as a leading "./"');
  }
  if (components.length > limits.maxPathDepth) {
    reject(
      'path-too-deep',
      `${components.length} levels, the limit is ${limits.maxPathDepth}`,
      limits.maxPathDepth,
      components.length,
    );
  }
  for (const component of components) {
    const bytes = Buffer.byteLength(component, 'utf8');
    if (bytes > limits.maxComponentBytes) {
      reject(
        'path-too-long',
        `a name in the path is ${bytes} bytes, the limit is ${limits.maxComponentBytes} bytes per name`,
        limits.maxComponentBytes,
        bytes,
      );
    }
  }
  const pathBytes = Buffer.byteLength(rest, 'utf8');
  if (pathBytes > limits.maxPathBytes) {
    reject(
      'path-too-long',
      `the path is ${pathBytes} bytes, the limit is ${limits.maxPathBytes} bytes`,
      limits.maxPathBytes,
      pathBytes,
    );
  }
  return { path: rest, components, trailingSlash };
}
