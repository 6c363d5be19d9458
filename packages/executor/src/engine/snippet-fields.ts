import { z } from 'zod';
import { LANGUAGE_RUNTIMES, type Language } from '../languages/index.ts';
import { RUNBOX_DIR } from '../result/result-path.ts';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';

/**
 * The fields of a snippet run besides its code (docs/api.md, "Snippet fields"): program arguments,
 * extra environment variables, more files with a chosen entry, and the output it is expected to
 * print. The engine's request schema and the API's input schema both take them from here, so a
 * request the API lets through is one the engine takes, and a worker checks what it is sent the
 * same way. Every refusal names its rule (`params.rule` of the zod issue).
 */

/** Arguments a program may be given at most, and their UTF-8 bytes together. */
export const MAX_ARGS = 100;
/**
 * A warm sandbox's runner reads its arguments as at most 64 KiB of JSON; 8 KiB of arguments stay
 * under that even if every byte is a control character JSON writes as `\u00XX`.
 */
export const MAX_ARGS_BYTES = 8 * 1024;

/** Extra environment variables at most, and the UTF-8 bytes of their names and values together. */
export const MAX_ENV_VARS = 64;
export const MAX_ENV_BYTES = 32 * 1024;
export const ENV_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_ENV_NAME_LENGTH = 128;

/**
 * Names a run may not set (compared in upper case): the ones runbox sets itself, and the ones that
 * change how the runner, the interpreters, the C library or the shell load and start, before
 * the program has a say. Prefixes cover families (every `LD_*`, `PYTHON*`, `NODE_*`, ...).
 */
export const DENIED_ENV_NAMES: readonly string[] = [
  ...Object.keys(baseSandboxEnv()),
  'BASH_ENV',
  'ENV',
  'IFS',
  'CDPATH',
  'GLOBIGNORE',
  'SHELLOPTS',
  'BASHOPTS',
  'PS4',
  'PROMPT_COMMAND',
  'SHELL',
  'OLDPWD',
  'SHLVL',
  'TMP',
  'TEMP',
  'LANGUAGE',
  'LOCPATH',
  'NLSPATH',
  'GCONV_PATH',
  'TZDIR',
  'HOSTALIASES',
  'LOCALDOMAIN',
  'RES_OPTIONS',
  'RESOLV_HOST_CONF',
];
export const DENIED_ENV_PREFIXES: readonly string[] = [
  'LD_',
  'PYTHON',
  'NODE_',
  'NPM_',
  'BASH_FUNC_',
  'LC_',
  'GLIBC_',
  'MALLOC_',
  'RUNBOX_',
];

/** Files of one snippet at most (the entry included), and how deep and long their paths may be. */
export const MAX_SNIPPET_FILES = 64;
export const MAX_FILE_PATH_DEPTH = 8;
export const MAX_FILE_PATH_BYTES = 1024;
export const MAX_FILE_NAME_BYTES = 255;

/** The longest expected output, as for stdin. */
export const MAX_EXPECTED_OUTPUT_CHARS = 1024 * 1024;

/** Why a name or path is refused, by rule. */
export interface FieldRefusal {
  rule: string;
  message: string;
}

function bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** The rule an environment variable's name breaks, or null when a run may set it. */
export function envNameRefusal(name: string): FieldRefusal | null {
  if (!ENV_NAME_PATTERN.test(name) || name.length > MAX_ENV_NAME_LENGTH)
    return {
      rule: 'env-name',
      message: `${JSON.stringify(name)} is not a variable name (letters, digits and _, not starting with a digit, at most ${MAX_ENV_NAME_LENGTH})`,
    };
  const upper = name.toUpperCase();
  if (DENIED_ENV_NAMES.includes(upper))
    return {
      rule: 'env-denied',
      message: `${name} is set by runbox or changes how the sandbox starts programs; it may not be set`,
    };
  const prefix = DENIED_ENV_PREFIXES.find((candidate) => upper.startsWith(candidate));
  if (prefix !== undefined)
    return {
      rule: 'env-denied-prefix',
      message: `${name}: names starting with ${prefix} change how interpreters or the C library load; they may not be set`,
    };
  return null;
}

const DRIVE_LETTER = /^[A-Za-z]:/;

/**
 * The rule a snippet file's path breaks, or null: a plain relative path inside the workspace, as
 * an upload's entries are checked (no `..`, not absolute, no backslash or control character, no
 * empty or `.` component, bounded depth and length), and not under runbox's own `.runbox/`.
 */
export function filePathRefusal(path: string): FieldRefusal | null {
  if (path.length === 0) return { rule: 'invalid-component', message: 'the name is empty' };
  for (const char of path) {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f))
      return { rule: 'control-character', message: 'control characters are not allowed in names' };
  }
  if (!path.isWellFormed())
    return { rule: 'invalid-encoding', message: 'the name is not valid Unicode' };
  if (path.startsWith('/') || DRIVE_LETTER.test(path))
    return { rule: 'absolute-path', message: 'paths must be relative to the workspace' };
  if (path.includes('\\'))
    return { rule: 'backslash', message: 'use / to separate directories; \\ is not allowed' };
  const components = path.split('/');
  if (components.includes('..'))
    return { rule: 'path-traversal', message: '.. components are not allowed' };
  if (components.some((component) => component === '' || component === '.'))
    return { rule: 'invalid-component', message: 'empty and "." components are not allowed' };
  if (components.length > MAX_FILE_PATH_DEPTH)
    return {
      rule: 'path-too-deep',
      message: `${components.length} levels, at most ${MAX_FILE_PATH_DEPTH}`,
    };
  if (components.some((component) => bytes(component) > MAX_FILE_NAME_BYTES))
    return {
      rule: 'path-too-long',
      message: `a name in the path is longer than ${MAX_FILE_NAME_BYTES} bytes`,
    };
  if (bytes(path) > MAX_FILE_PATH_BYTES)
    return {
      rule: 'path-too-long',
      message: `the path is longer than ${MAX_FILE_PATH_BYTES} bytes`,
    };
  if (components[0] === RUNBOX_DIR)
    return { rule: 'reserved', message: `${RUNBOX_DIR}/ is runbox's own directory` };
  return null;
}

/** A zod check from a refusal function; the issue carries the rule in `params.rule`. */
function refusing<T>(refusal: (value: T) => FieldRefusal | null) {
  return (value: T, ctx: z.RefinementCtx): void => {
    const refused = refusal(value);
    if (refused)
      ctx.addIssue({ code: 'custom', message: refused.message, params: { rule: refused.rule } });
  };
}

/** Program arguments: `FILE ARGS...` for every language. */
export const snippetArgsSchema = z
  .array(z.string().refine((arg) => !arg.includes('\0'), 'NUL cannot be passed in an argument'))
  .max(MAX_ARGS)
  .superRefine((args, ctx) => {
    const total = args.reduce((sum, arg) => sum + bytes(arg), 0);
    if (total > MAX_ARGS_BYTES)
      ctx.addIssue({
        code: 'custom',
        message: `the arguments are ${total} bytes together, at most ${MAX_ARGS_BYTES}`,
        params: { rule: 'args-bytes' },
      });
  });

/** Extra environment variables, on top of the sandbox's own (which they never replace). */
export const snippetEnvSchema = z
  .record(
    z.string(),
    z.string().refine((value) => !value.includes('\0'), 'NUL cannot be passed in a variable'),
  )
  .superRefine((env, ctx) => {
    const entries = Object.entries(env);
    // Each name's issue is at its own path (`env.PATH`), which a key schema's would not be.
    for (const [name] of entries) {
      const refused = envNameRefusal(name);
      if (refused)
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: refused.message,
          params: { rule: refused.rule },
        });
    }
    if (entries.length > MAX_ENV_VARS)
      ctx.addIssue({
        code: 'custom',
        message: `${entries.length} variables, at most ${MAX_ENV_VARS}`,
        params: { rule: 'env-count' },
      });
    const total = entries.reduce((sum, [name, value]) => sum + bytes(name) + bytes(value), 0);
    if (total > MAX_ENV_BYTES)
      ctx.addIssue({
        code: 'custom',
        message: `the variables are ${total} bytes together, at most ${MAX_ENV_BYTES}`,
        params: { rule: 'env-bytes' },
      });
  });

/** A path in the workspace: the entry, or a file's name. */
export const snippetPathSchema = z.string().superRefine(refusing(filePathRefusal));

/** One more file of a snippet; `content` is text, written as UTF-8. */
export const snippetFileSchema = z
  .object({
    name: snippetPathSchema,
    content: z.string().max(1_000_000, 'a file is limited to 1,000,000 characters on the wire'),
  })
  .strict();

export const snippetFilesSchema = z.array(snippetFileSchema).max(MAX_SNIPPET_FILES);

export const expectedOutputSchema = z
  .string()
  .max(MAX_EXPECTED_OUTPUT_CHARS, 'expectedOutput is limited to 1 MiB');

/** The file a snippet of `language` runs: `entry`, else the language's own name (main.py, ...). */
export function snippetEntryName(language: Language, entry?: string): string {
  return entry ?? LANGUAGE_RUNTIMES[language].fileName;
}

/**
 * Issues of a snippet's set of file names, `entry` among them: two files of one name, a file that
 * is also a directory of another (`a` and `a/b`), more files than allowed. `paths[i]` is where
 * name i is in the request (`['files', 2, 'name']`, or `['entry']` for the entry's own name).
 */
export function fileSetIssues(
  names: readonly { name: string; path: (string | number)[] }[],
): { path: (string | number)[]; message: string; rule: string }[] {
  const issues: { path: (string | number)[]; message: string; rule: string }[] = [];
  if (names.length > MAX_SNIPPET_FILES)
    issues.push({
      path: ['files'],
      message: `${names.length} files with the entry, at most ${MAX_SNIPPET_FILES}`,
      rule: 'too-many-files',
    });
  const files = new Map<string, number>();
  names.forEach(({ name }, index) => {
    if (!files.has(name)) files.set(name, index);
  });
  names.forEach(({ name, path }, index) => {
    const first = files.get(name);
    if (first !== undefined && first !== index) {
      issues.push({
        path,
        message: `${JSON.stringify(name)} is given twice`,
        rule: 'duplicate-name',
      });
      return;
    }
    const components = name.split('/');
    for (let depth = 1; depth < components.length; depth++) {
      const directory = components.slice(0, depth).join('/');
      if (files.has(directory)) {
        issues.push({
          path,
          message: `${JSON.stringify(directory)} is a file, so it cannot also be a directory`,
          rule: 'file-is-directory',
        });
        return;
      }
    }
  });
  return issues;
}
