import { z } from 'zod';
import {
  ENVIRONMENT_NAME_PATTERN,
  PROJECT_ENVIRONMENT,
} from '../environments/environment-settings.ts';
import { LANGUAGES } from '../languages/language.ts';
import { limitsOverrideSchema } from '../sandbox/limits.ts';
import { SESSION_LANGUAGES } from '../sessions/session-languages.ts';
import {
  expectedOutputSchema,
  fileSetIssues,
  snippetArgsSchema,
  snippetEntryName,
  snippetEnvSchema,
  snippetFilesSchema,
  snippetPathSchema,
} from './snippet-fields.ts';

/** The largest stdin a snippet may be given. */
export const MAX_STDIN_BYTES = 1024 * 1024;

/** A run's stdin, given up front (a snippet's or a tool run's). */
const stdinSchema = z
  .string()
  .max(MAX_STDIN_BYTES, `stdin is limited to ${MAX_STDIN_BYTES} characters`);

/**
 * The packages a run gets (environments/): `project` installs what its project's manifests list
 * (requirements.txt, pyproject.toml, package.json with package-lock.json), any other name an
 * environment the operator declared. Cached: the install runs once per distinct content.
 */
export const environmentNameSchema = z
  .string()
  .regex(
    ENVIRONMENT_NAME_PATTERN,
    `an environment is "${PROJECT_ENVIRONMENT}" or a name the server declares (a-z, 0-9, -)`,
  );

/** A terminal's size in character cells. */
export const terminalSizeSchema = z
  .object({
    cols: z.number().int().min(10).max(1000),
    rows: z.number().int().min(2).max(1000),
  })
  .strict();
export type TerminalSize = z.infer<typeof terminalSizeSchema>;

/**
 * Per-run output filters, besides secret redaction (always on). `pii`: replace e-mail addresses,
 * phone, payment card and IBAN numbers with per-run tokens (`<EMAIL_1>`) before the output is
 * stored or streamed; unset takes the server's default (`RUNBOX_PII_FILTER`, off unless set).
 */
export const outputFiltersSchema = z.object({ pii: z.boolean().optional() }).strict();

/**
 * A snippet: `code` is the content of its entry file (`entry`, default the language's own name,
 * e.g. main.py), `files` the other files beside it, `args` and `env` what the program is started
 * with, `expectedOutput` what its stdout is judged against (snippet-fields.ts, verdict.ts).
 */
export const snippetRequestSchema = z
  .object({
    kind: z.literal('snippet'),
    language: z.enum(LANGUAGES),
    code: z.string(),
    stdin: stdinSchema.optional(),
    limits: limitsOverrideSchema.optional(),
    outputFilters: outputFiltersSchema.optional(),
    entry: snippetPathSchema.optional(),
    files: snippetFilesSchema.optional(),
    args: snippetArgsSchema.optional(),
    env: snippetEnvSchema.optional(),
    expectedOutput: expectedOutputSchema.optional(),
    /** A named environment's packages (a snippet has no project: `project` is refused). */
    environment: environmentNameSchema.optional(),
    /**
     * Keeps the program's stdin open after `stdin` (if any): more comes from the client while it
     * runs (Executor.sendInput), until it closes it (closeInput) or the run ends.
     */
    interactive: z.boolean().optional(),
    /**
     * Runs the program on a pseudo-terminal of this size inside the sandbox (runtime/tty_run.py):
     * it sees a terminal; stdin stays open as for `interactive`, and what it writes to the
     * terminal, stdout and stderr alike, is the run's stdout. Executor.resize changes the size.
     */
    tty: terminalSizeSchema.optional(),
  })
  .strict()
  .superRefine((request, ctx) => {
    const names = [
      { name: snippetEntryName(request.language, request.entry), path: ['entry'] },
      ...(request.files ?? []).map((file, index) => ({
        name: file.name,
        path: ['files', index, 'name'],
      })),
    ];
    for (const issue of fileSetIssues(names))
      ctx.addIssue({
        code: 'custom',
        path: issue.path,
        message: issue.message,
        params: { rule: issue.rule },
      });
  });

export const toolRequestSchema = z
  .object({
    kind: z.literal('tool'),
    toolId: z.string().min(1).max(64),
    /** Host directory of the uploaded project or example; copied, never written by the run. */
    projectDir: z.string().startsWith('/', 'projectDir must be an absolute path'),
    /** The entry file for tools that run one (a path in the project); default the tool's first candidate. */
    entry: z.string().min(1).max(255).optional(),
    /**
     * Arguments the tool's declaration allows (tool-arguments.ts), checked against it and the
     * project when the run is checked; passed as argv, never through a shell.
     */
    args: snippetArgsSchema.optional(),
    /** Extra environment variables: the same names as a snippet's may set. */
    env: snippetEnvSchema.optional(),
    stdin: stdinSchema.optional(),
    limits: limitsOverrideSchema.optional(),
    outputFilters: outputFiltersSchema.optional(),
    environment: environmentNameSchema.optional(),
  })
  .strict();

/**
 * A cell of a session (sessions/): its code runs in the session's kernel, whose variables earlier
 * cells left; `limits` are the cell's (its time and output, every other limit is the session's).
 */
export const cellRequestSchema = z
  .object({
    kind: z.literal('cell'),
    sessionId: z.string().min(1).max(64),
    language: z.enum(SESSION_LANGUAGES),
    code: z.string(),
    limits: limitsOverrideSchema.optional(),
    outputFilters: outputFiltersSchema.optional(),
  })
  .strict();

export const runRequestSchema = z.discriminatedUnion('kind', [
  snippetRequestSchema,
  toolRequestSchema,
  cellRequestSchema,
]);

export type SnippetRequest = z.infer<typeof snippetRequestSchema>;
export type ToolRequest = z.infer<typeof toolRequestSchema>;
export type CellRequest = z.infer<typeof cellRequestSchema>;
export type RunRequest = z.infer<typeof runRequestSchema>;
export type OutputFilters = z.infer<typeof outputFiltersSchema>;

/**
 * Whether the run's stdin stays open for the client (Executor.sendInput): a snippet created
 * `interactive`, or on a terminal (`tty`: what is typed is its input).
 */
export function takesInput(request: RunRequest): boolean {
  return request.kind === 'snippet' && (request.interactive === true || request.tty !== undefined);
}

/** The key under which run durations are remembered for wait estimates. */
export function runKindKey(request: RunRequest): string {
  if (request.kind === 'tool') return `tool:${request.toolId}`;
  return request.kind === 'cell' ? `cell:${request.language}` : `lang:${request.language}`;
}
