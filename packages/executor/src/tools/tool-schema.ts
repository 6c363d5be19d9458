import { z } from 'zod';
import {
  ABSOLUTE_RANGES,
  LIMIT_NAMES,
  LimitOutOfRangeError,
  limitsOverrideSchema,
  resolveLimits,
  type SandboxLimits,
} from '../sandbox/limits.ts';
import { ALLOWED_EXTRA_ENV } from '../sandbox/sandbox-environment.ts';
import { toolArgumentsSchema } from './tool-arguments.ts';
import { expandFixedPlaceholders, placeholdersIn, ToolArgvError } from './tool-argv.ts';

/** A tool's id: lower-case letters, digits and dashes, as used in URLs, manifests and cgroups. */
export const TOOL_ID_PATTERN = /^[a-z][a-z0-9-]{0,39}$/;

/** A plain relative path inside the project: no leading slash, no `.` or `..` segments. */
const relativePathSchema = z
  .string()
  .min(1)
  .max(255)
  .refine(
    (path) => path.split('/').every((part) => part !== '' && part !== '.' && part !== '..'),
    'a plain relative path inside the project (no leading "/", no "." or ".." segments)',
  );

/** See tool-applies.ts for what a glob means. Braces and brackets are not glob syntax here. */
const globSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^\/?[^/{}[\]\\\0]+(\/[^/{}[\]\\\0]+)*$/,
    'a glob such as "*.py", "/main.py" or "src/**/*.ts"',
  );

/** After `{tools}`/`{workspace}` expansion: an absolute path, or a name looked up on PATH. */
const BINARY_PATTERN = /^(\/[A-Za-z0-9._+-]+)+$|^[A-Za-z0-9._+-]+$/;

const argumentSchema = z.string().max(4096);

/** An interpreter as a shebang names it (`sh`, `bash`), by its file name. */
const interpreterSchema = z.string().regex(/^[a-z][a-z0-9._+-]{0,31}$/, 'an interpreter name');

/**
 * An environment variable set when the project looks as the tool's conventions expect (pytest and
 * a `src/` layout: PYTHONPATH=src), and shown on the run with the reason.
 */
const detectedEnvSchema = z
  .object({
    name: z.string().regex(ALLOWED_EXTRA_ENV, 'an upper-case name that is not a loader variable'),
    /** May use `{workspace}` and `{tools}`. */
    value: z.string().min(1).max(4096),
    /** Set when a file of the project matches one of these globs (tool-applies.ts). */
    when: z.array(globSchema).min(1).max(16),
    /** Why, for the run's notice: what the tool's convention is. */
    reason: z.string().min(1).max(300),
  })
  .strict();

const ABSOLUTE_MAXIMUMS = Object.fromEntries(
  LIMIT_NAMES.map((name) => [name, ABSOLUTE_RANGES[name][1]]),
) as unknown as SandboxLimits;

export const toolSchema = z
  .object({
    /** Stable identifier, e.g. "pytest". */
    id: z.string().regex(TOOL_ID_PATTERN, 'lower-case letters, digits and "-", 1-40 characters'),
    /** Shown to users, e.g. "pytest". */
    name: z.string().min(1).max(80),
    /** One or two sentences for users: what the tool does to a project. */
    description: z.string().min(1).max(500),
    /** The program and its arguments inside the sandbox, with placeholders (tool-argv.ts). */
    argv: z.array(argumentSchema).min(1).max(64),
    /** Entry file candidates for `{entry}`, relative to the project, first present wins. */
    entry: z.array(relativePathSchema).min(1).max(16).optional(),
    /** The tool applies to a project when at least one of its files matches one of the globs. */
    appliesTo: z
      .object({
        anyOf: z.array(globSchema).min(1).max(32),
        /** Also every file without an extension whose shebang names one of these interpreters. */
        shebangs: z.array(interpreterSchema).max(16).optional(),
      })
      .strict(),
    /** What a run may add to argv, in place of `{args}` (tool-arguments.ts). Default none. */
    arguments: toolArgumentsSchema.optional(),
    /** Variables set for projects laid out as the tool expects (shown on the run). */
    detectedEnv: z.array(detectedEnvSchema).max(8).optional(),
    /** Default limits of the tool's runs, over the server's defaults. Default none. */
    limits: limitsOverrideSchema.default({}),
    /** Programs the tool needs: absolute paths in the sandbox, or names looked up on its PATH. */
    binaries: z.array(z.string().min(1).max(255)).min(1).max(16),
    /** Run at start-up by the probe: must exit 0; the version is read from its output. */
    versionArgv: z.array(argumentSchema).min(1).max(16).optional(),
    /** Environment on top of the sandbox's base; values may use `{workspace}` and `{tools}`. */
    env: z
      .record(
        z.string().regex(ALLOWED_EXTRA_ENV, 'an upper-case name that is not a loader variable'),
        z.string().max(4096),
      )
      .default({}),
  })
  .strict()
  .superRefine((tool, context) => {
    const problem = (path: (string | number)[], message: string): void => {
      context.addIssue({ code: 'custom', path, message });
    };
    const usesEntry = tool.argv.some((argument, index) => {
      try {
        return placeholdersIn(argument).some((name) => {
          const known = name === 'workspace' || name === 'tools' || name === 'entry';
          const whole = name.startsWith('files:') || name === 'files' || name === 'args';
          if (!known && !(whole && argument === `{${name}}`)) {
            problem(
              ['argv', index],
              whole
                ? `{${name.startsWith('files:') ? 'files:GLOB' : name}} must be a whole argument`
                : `unknown placeholder {${name}} (known: {workspace}, {tools}, {entry}, {files}, {files:GLOB}, {args})`,
            );
          }
          if (name.startsWith('files:') && !globSchema.safeParse(name.slice(6)).success) {
            problem(['argv', index], `{${name}}: not a glob such as "*.sh"`);
          }
          return name === 'entry';
        });
      } catch (error) {
        problem(['argv', index], error instanceof ToolArgvError ? error.message : String(error));
        return false;
      }
    });
    if (usesEntry && !tool.entry)
      problem(['entry'], 'argv uses {entry}, so entry candidates are needed');
    const argsAt = tool.argv.filter((argument) => argument === '{args}').length;
    if (tool.arguments && argsAt !== 1)
      problem(['argv'], 'a tool that declares arguments has {args} once in its argv');
    if (!tool.arguments && argsAt > 0)
      problem(['arguments'], 'argv uses {args}, so the arguments must be declared');
    tool.arguments?.operands?.default.forEach((argument, index) => {
      try {
        for (const name of placeholdersIn(argument)) {
          const allowed =
            name === 'workspace' ||
            name === 'tools' ||
            ((name === 'files' || name.startsWith('files:')) && argument === `{${name}}`);
          if (!allowed)
            problem(
              ['arguments', 'operands', 'default', index],
              `{${name}} cannot be a default operand (only {files}, {files:GLOB}, {workspace}, {tools})`,
            );
        }
      } catch (error) {
        problem(
          ['arguments', 'operands', 'default', index],
          error instanceof ToolArgvError ? error.message : String(error),
        );
      }
    });

    const fixed = (path: (string | number)[], text: string): string | null => {
      try {
        return expandFixedPlaceholders(text);
      } catch (error) {
        problem(path, error instanceof ToolArgvError ? error.message : String(error));
        return null;
      }
    };
    tool.binaries.forEach((binary, index) => {
      const expanded = fixed(['binaries', index], binary);
      if (expanded !== null && !BINARY_PATTERN.test(expanded)) {
        problem(['binaries', index], `${JSON.stringify(binary)}: an absolute path or a plain name`);
      }
    });
    tool.versionArgv?.forEach((argument, index) => fixed(['versionArgv', index], argument));
    for (const [name, value] of Object.entries(tool.env)) fixed(['env', name], value);
    tool.detectedEnv?.forEach((detected, index) =>
      fixed(['detectedEnv', index, 'value'], detected.value),
    );

    // Only the absolute ranges here: the server's own maximums are checked when a run starts.
    try {
      resolveLimits(tool.limits, { maximums: ABSOLUTE_MAXIMUMS });
    } catch (error) {
      if (!(error instanceof LimitOutOfRangeError)) throw error;
      problem(['limits', error.field], error.message);
    }
  });

/** One tool of the registry, as validated. */
export type Tool = z.infer<typeof toolSchema>;

/** The registry file: `{ "$comment"?: string, "tools": Tool[] }`. */
export const toolRegistryFileSchema = z
  .object({
    $comment: z.string().optional(),
    tools: z.array(z.unknown()).min(1),
  })
  .strict();

/** A registry that cannot be used; names the tool (when one is to blame) and the field. */
export class ToolRegistryError extends Error {
  readonly code = 'TOOL_REGISTRY_INVALID';
  /** The registry file (or another label for where the data came from). */
  readonly source: string;
  /** The tool's id, or `#index` when it has no valid id; null for the file as a whole. */
  readonly toolId: string | null;
  /** Dotted path of the field, e.g. `argv.2` or `limits.memoryBytes`; '' for the whole tool. */
  readonly field: string;
  constructor(options: { source: string; toolId: string | null; field: string; problem: string }) {
    const where = [
      options.toolId === null ? null : `tool ${options.toolId}`,
      options.field === '' ? null : `field ${options.field}`,
    ]
      .filter((part) => part !== null)
      .join(', ');
    super(`${options.source}: ${where ? `${where}: ` : ''}${options.problem}`);
    this.name = 'ToolRegistryError';
    this.source = options.source;
    this.toolId = options.toolId;
    this.field = options.field;
  }
}
