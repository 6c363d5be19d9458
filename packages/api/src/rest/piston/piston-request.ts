import {
  ABSOLUTE_RANGES,
  filePathRefusal,
  snippetEntryName,
  type Language,
  type LimitsOverride,
  type SandboxLimits,
} from '@runbox/executor';
import { z } from 'zod';

/**
 * Piston's execute request (`POST /api/v2/execute`, engineer-man/piston docs/api-v2.md), checked
 * the way Piston checks it and with its messages, and turned into a runbox snippet. Fields Piston
 * does not know are ignored, as Piston ignores them. docs/piston.md says what maps to what.
 */

/** A request Piston would refuse: 400 with `{message}` naming the field. */
export class PistonRequestError extends Error {
  readonly status = 400;
  constructor(message: string) {
    super(message);
    this.name = 'PistonRequestError';
  }
}

const optionalNumber = z
  .number({ error: 'If specified, {field} must be a number' })
  .nullish()
  .describe('Piston treats 0 and null as not given');

const fileSchema = z.looseObject({
  name: z
    .string({ error: '{field} must be a string' })
    .nullish()
    .describe(
      'the file name; none: the entry is named as runbox names it (main.py, ...), others file<i>.code',
    ),
  content: z.string({ error: '{field} is required as a string' }),
  encoding: z
    .enum(['utf8', 'base64', 'hex'], { error: '{field} must be one of utf8, base64, hex' })
    .nullish()
    .describe('default utf8; base64 and hex must decode to UTF-8 text'),
});

export const pistonExecuteSchema = z.looseObject({
  language: z
    .string({ error: '{field} is required as a string' })
    .min(1, '{field} is required as a string')
    .describe('a name or alias of GET /api/v2/runtimes'),
  version: z
    .string({ error: '{field} is required as a string' })
    .min(1, '{field} is required as a string')
    .describe('a SemVer selector: "*", "3.x", "3.11.2", ">=3.10", ...'),
  files: z
    .array(fileSchema, { error: '{field} is required as an array' })
    .describe('the first utf8 file runs; the others are written beside it'),
  stdin: z.string({ error: '{field} must be a string' }).nullish(),
  args: z
    .array(z.string({ error: '{field} must be a string' }), {
      error: '{field} must be an array of strings',
    })
    .nullish(),
  run_timeout: optionalNumber.describe('ms: the wall time of the run'),
  compile_timeout: optionalNumber.describe('accepted and ignored: runbox compiles nothing'),
  run_memory_limit: optionalNumber.describe('bytes; -1: the server default'),
  compile_memory_limit: optionalNumber.describe('accepted and ignored: runbox compiles nothing'),
  run_cpu_time: optionalNumber.describe('accepted and ignored: the wall time bounds it'),
  compile_cpu_time: optionalNumber.describe('accepted and ignored: runbox compiles nothing'),
});
export type PistonExecuteBody = z.infer<typeof pistonExecuteSchema>;

/** A path as Piston's messages write it: `files[0].content`. */
export function pistonField(path: readonly PropertyKey[]): string {
  return path
    .map((part, index) =>
      typeof part === 'number' ? `[${part}]` : `${index === 0 ? '' : '.'}${String(part)}`,
    )
    .join('');
}

/** The body checked, or a PistonRequestError with Piston's message for its first problem. */
export function parsePistonExecute(body: unknown): PistonExecuteBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new PistonRequestError('the body must be a JSON object');
  const parsed = pistonExecuteSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = pistonField(issue?.path ?? []);
  const message = issue?.message ?? '{field} is not valid';
  throw new PistonRequestError(
    message.includes('{field}') ? message.replaceAll('{field}', field) : `${field}: ${message}`,
  );
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A file's text, its encoding undone. */
function decodeContent(
  content: string,
  encoding: 'utf8' | 'base64' | 'hex',
  field: string,
): string {
  if (encoding === 'utf8') return content;
  let bytes: Buffer;
  if (encoding === 'hex') {
    if (!/^(?:[0-9a-fA-F]{2})*$/.test(content))
      throw new PistonRequestError(`${field} is not valid hex`);
    bytes = Buffer.from(content, 'hex');
  } else {
    const compact = content.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(compact))
      throw new PistonRequestError(`${field} is not valid base64`);
    bytes = Buffer.from(compact, 'base64');
  }
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new PistonRequestError(
      `${field} decodes to bytes that are not UTF-8 text; runbox takes text files only`,
    );
  }
}

export interface SnippetFiles {
  entry: string;
  files: { name: string; content: string }[];
}

/**
 * Piston's files as a runbox snippet's: Piston runs the first utf8-encoded file and writes the
 * others beside it. A file without a name is `file<i>.code` as in Piston, except the entry, which
 * gets the language's own file name (main.ts: Node strips TypeScript's types by the extension).
 */
export function snippetFilesOf(body: PistonExecuteBody, language: Language): SnippetFiles {
  const entryIndex = body.files.findIndex((file) => (file.encoding ?? 'utf8') === 'utf8');
  if (entryIndex === -1)
    throw new PistonRequestError('files must include at least one utf8 encoded file');
  const files = body.files.map((file, index) => {
    const named = file.name !== undefined && file.name !== null && file.name !== '';
    // Checked here as well as by runs.create, so the message names Piston's field.
    const refused = named ? filePathRefusal(file.name ?? '') : null;
    if (refused) throw new PistonRequestError(`files[${index}].name: ${refused.message}`);
    return {
      name: named
        ? (file.name ?? '')
        : index === entryIndex
          ? snippetEntryName(language)
          : `file${index}.code`,
      content: decodeContent(file.content, file.encoding ?? 'utf8', `files[${index}].content`),
    };
  });
  return { entry: files[entryIndex]?.name ?? snippetEntryName(language), files };
}

/** Piston's stdin: it adds a final newline when there is none (an empty stdin becomes one too). */
export function pistonStdin(stdin: string | null | undefined): string {
  const text = stdin ?? '';
  return text.endsWith('\n') ? text : `${text}\n`;
}

/** A value Piston takes as given: not 0, null or absent. */
function given(value: number | null | undefined): value is number {
  return value !== undefined && value !== null && value !== 0;
}

/**
 * `run_timeout` and `run_memory_limit` as runbox limits, refused (never clamped) outside what this
 * server allows, with Piston's wording. Piston's -1 ("no limit") for memory is the server's
 * default: a runbox run always has a memory limit. The compile and CPU-time fields only have to be
 * numbers (checked by the schema).
 */
export function pistonLimits(
  body: PistonExecuteBody,
  maximums: Pick<SandboxLimits, 'wallTimeMs' | 'memoryBytes'>,
): LimitsOverride {
  const limits: LimitsOverride = {};
  const timeout = body.run_timeout;
  if (given(timeout)) {
    const [min, absoluteMax] = ABSOLUTE_RANGES.wallTimeMs;
    const max = Math.min(maximums.wallTimeMs, absoluteMax);
    if (timeout < 0) throw new PistonRequestError('run_timeout must be non-negative');
    if (timeout > max)
      throw new PistonRequestError(`run_timeout cannot exceed the configured limit of ${max}`);
    if (timeout < min)
      throw new PistonRequestError(`run_timeout must be at least ${min} (runbox's shortest run)`);
    limits.wallTimeMs = Math.ceil(timeout);
  }
  const memory = body.run_memory_limit;
  if (given(memory) && memory !== -1) {
    const [min, absoluteMax] = ABSOLUTE_RANGES.memoryBytes;
    const max = Math.min(maximums.memoryBytes, absoluteMax);
    if (memory < 0) throw new PistonRequestError('run_memory_limit must be non-negative');
    if (memory > max)
      throw new PistonRequestError(`run_memory_limit cannot exceed the configured limit of ${max}`);
    if (memory < min)
      throw new PistonRequestError(
        `run_memory_limit must be at least ${min} (runbox's smallest memory limit)`,
      );
    limits.memoryBytes = Math.floor(memory);
  }
  for (const name of [
    'compile_timeout',
    'compile_memory_limit',
    'run_cpu_time',
    'compile_cpu_time',
  ] as const) {
    const value = body[name];
    if (given(value) && value < 0 && !(value === -1 && name === 'compile_memory_limit'))
      throw new PistonRequestError(`${name} must be non-negative`);
  }
  return limits;
}
