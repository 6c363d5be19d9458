import { SANDBOX_WORKSPACE } from '../sandbox/sandbox-command.ts';

/**
 * The structured result channel: besides its output, a run can hand back one JSON value.
 *
 * - Python, JavaScript and TypeScript snippets run through a small runner (see runtime-mount.ts)
 *   that writes the value of the snippet's last expression to the result file, like a notebook
 *   cell, unless the snippet has written the file itself.
 * - Any program, in any language, can write JSON to `/workspace/.runbox/result.json` itself. The
 *   runners create `/workspace/.runbox` before the snippet starts; a Bash script makes it with
 *   `mkdir -p /workspace/.runbox`.
 *
 * The host reads the file after the run, without following links, up to a size cap
 * (read-result.ts). The file is never listed as an artifact.
 */

/** The directory of runbox's own files inside the workspace, relative to it. */
export const RUNBOX_DIR = '.runbox';

/** The result file, relative to the workspace. */
export const RESULT_FILE = `${RUNBOX_DIR}/result.json`;

/** The result file as a program inside the sandbox sees it: `/workspace/.runbox/result.json`. */
export const SANDBOX_RESULT_PATH = `${SANDBOX_WORKSPACE}/${RESULT_FILE}`;

/** Bytes of JSON the host reads at most; a larger file gives a warning and no value. */
export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024;
