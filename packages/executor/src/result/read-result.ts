import { readWorkspaceFile, UnsafeWorkspacePathError } from '../sandbox/safe-fs.ts';
import { DEFAULT_MAX_RESULT_BYTES, RESULT_FILE, SANDBOX_RESULT_PATH } from './result-path.ts';

export type JsonValue =
  string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type ResultWarningReason = 'too_large' | 'invalid_json' | 'unsafe_path';

/** What the result channel gave: a value, a warning that says why there is none, or nothing. */
export type ResultOutcome =
  { value: JsonValue } | { warning: string; reason: ResultWarningReason } | null;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads the value a finished run handed back in `/workspace/.runbox/result.json`: without
 * following a link anywhere on the path, at most `maxBytes` (default 64 KiB). Returns null when
 * the run wrote no result file; a file over the cap, not valid JSON, or not a plain file gives a
 * warning and no value.
 */
export async function readResult(
  workspaceDir: string,
  options: { maxBytes?: number } = {},
): Promise<ResultOutcome> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_RESULT_BYTES;
  let bytes: Buffer;
  try {
    bytes = await readWorkspaceFile(workspaceDir, RESULT_FILE, maxBytes + 1);
  } catch (error) {
    if (error instanceof UnsafeWorkspacePathError) {
      return {
        warning: `${SANDBOX_RESULT_PATH} was not read: ${error.message}`,
        reason: 'unsafe_path',
      };
    }
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
  if (bytes.length > maxBytes) {
    return {
      warning: `${SANDBOX_RESULT_PATH} is larger than the ${maxBytes}-byte cap for a result; no value was read`,
      reason: 'too_large',
    };
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { warning: `${SANDBOX_RESULT_PATH} is not valid UTF-8`, reason: 'invalid_json' };
  }
  try {
    return { value: JSON.parse(text.replace(/^\uFEFF/, '')) as JsonValue };
  } catch (error) {
    const problem = error instanceof Error ? error.message : String(error);
    return {
      warning: `${SANDBOX_RESULT_PATH} is not valid JSON: ${problem}`,
      reason: 'invalid_json',
    };
  }
}
