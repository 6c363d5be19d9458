import {
  LANGUAGES,
  MAX_STDIN_BYTES,
  RUN_STATES,
  environmentNameSchema,
  terminalSizeSchema,
  expectedOutputSchema,
  fileSetIssues,
  limitsOverrideSchema,
  outputFiltersSchema,
  snippetArgsSchema,
  snippetEntryName,
  snippetEnvSchema,
  snippetFilesSchema,
  snippetPathSchema,
  verdictSchema,
} from '@runbox/executor';
import { z } from 'zod';
import { callbackUrlSchema } from '../callbacks/callback-url.ts';

/** The shapes the API sends and takes, shared with the web app. */

/** A run's stdin on the wire (a snippet's or a tool run's). */
const wireStdinSchema = z.string().max(MAX_STDIN_BYTES, 'stdin is limited to 1 MiB');

export const runWarningSchema = z.object({
  check: z.string(),
  message: z.string(),
  line: z.number().nullable().optional(),
  rule: z.string().optional(),
});

export const runViewSchema = z.object({
  id: z.string(),
  owner: z.string().optional(),
  /** `cell`: a cell of a session (sessions.run), which names it in `sessionId`. */
  kind: z.enum(['snippet', 'tool', 'cell']),
  language: z.enum(LANGUAGES).nullable(),
  sessionId: z.string().optional(),
  /** Created with `interactive: true` (or `tty`): its stdin stays open for runs.sendInput. */
  interactive: z.boolean().optional(),
  /** Created with `tty`: on a pseudo-terminal of this size (the page shows a terminal). */
  tty: terminalSizeSchema.optional(),
  toolId: z.string().nullable(),
  projectId: z.string().nullable(),
  exampleId: z.string().nullable(),
  /** The snippet's code, for "run again"; null for tool runs. */
  code: z.string().nullable(),
  /** The run's stdin (a snippet's or a tool run's), null when it had none. */
  stdin: z.string().nullable(),
  /** The run's own arguments and extra variables, when it had them. */
  args: z.array(z.string()).optional(),
  env: z.record(z.string(), z.string()).optional(),
  /** The dependency environment it asked for (`project` or a named one), when it asked. */
  environment: z.string().optional(),
  state: z.enum(RUN_STATES),
  queuedAt: z.number(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  exitCode: z.number().nullable(),
  signal: z.string().nullable(),
  durationMs: z.number().nullable(),
  usage: z.object({ cpuMs: z.number(), peakMemoryBytes: z.number() }).nullable(),
  warnings: z.array(runWarningSchema),
  error: z.string().nullable(),
  value: z.unknown().optional(),
  outputLines: z.number().nullable(),
  /** A snippet sent with `expectedOutput`: its stdout passed, or the first line that differs. */
  verdict: verdictSchema.nullable(),
  limits: z.record(z.string(), z.number()).nullable(),
  /** While queued: place in line (1 = next) and the estimated wait. */
  position: z.number().nullable(),
  estimatedWaitMs: z.number().nullable(),
});
export type RunView = z.infer<typeof runViewSchema>;

/**
 * A snippet's entry content and files: the entry (`entry`, default main.py and the like) is `code`,
 * or, without `code`, the file of `files` with the entry's name; exactly one of them. Every file
 * name once; none both a file and a directory.
 */
function checkSnippetFiles(
  input: {
    language: (typeof LANGUAGES)[number];
    code?: string | undefined;
    entry?: string | undefined;
    files?: { name: string }[] | undefined;
  },
  ctx: z.RefinementCtx,
): void {
  const entry = snippetEntryName(input.language, input.entry);
  const files = input.files ?? [];
  const names = files.map((file, index) => ({ name: file.name, path: ['files', index, 'name'] }));
  if (input.code !== undefined) {
    names.unshift({ name: entry, path: [input.entry === undefined ? 'code' : 'entry'] });
    const twice = files.findIndex((file) => file.name === entry);
    if (twice !== -1) {
      ctx.addIssue({
        code: 'custom',
        path: ['files', twice, 'name'],
        message: `${JSON.stringify(entry)} is the entry, whose content is code: leave it out of files, or leave code out`,
        params: { rule: 'entry-twice' },
      });
      return;
    }
  } else if (!files.some((file) => file.name === entry)) {
    ctx.addIssue({
      code: 'custom',
      path: ['code'],
      message: `give code, or a file of files named ${JSON.stringify(entry)} (the entry)`,
      params: { rule: 'entry-missing' },
    });
    return;
  }
  for (const issue of fileSetIssues(names))
    ctx.addIssue({
      code: 'custom',
      path: issue.path,
      message: issue.message,
      params: { rule: issue.rule },
    });
}

export const snippetInputSchema = z
  .object({
    kind: z.literal('snippet'),
    language: z.enum(LANGUAGES),
    /** The entry file's content; leave it out when `files` has the entry. */
    code: z
      .string()
      .max(1_000_000, 'code is limited to 1,000,000 characters on the wire')
      .optional(),
    stdin: wireStdinSchema.optional(),
    /** The file that runs (a relative path); default the language's own name, e.g. main.py. */
    entry: snippetPathSchema.optional(),
    /** More files beside the entry (or the entry itself, when `code` is left out). */
    files: snippetFilesSchema.optional(),
    /** Program arguments: the program is started as `FILE ARGS...`. */
    args: snippetArgsSchema.optional(),
    /** Extra environment variables (names checked; runbox's own and loader variables refused). */
    env: snippetEnvSchema.optional(),
    /** What stdout should be: the run gets a verdict (passed, or the first differing line). */
    expectedOutput: expectedOutputSchema.optional(),
    /**
     * Keep stdin open after `stdin`: the client sends more while the program runs
     * (runs.sendInput), closes it (runs.closeInput) and may signal it (runs.signal).
     */
    interactive: z.boolean().optional(),
    /**
     * Run it on a pseudo-terminal of this size (it sees a terminal; stdout and stderr both come
     * as stdout, with the terminal's escape sequences); implies `interactive`. runs.resize
     * changes the size.
     */
    tty: terminalSizeSchema.optional(),
    /** A named environment the server declares (`environments.list`): its packages importable. */
    environment: environmentNameSchema.optional(),
    limits: limitsOverrideSchema.optional(),
    outputFilters: outputFiltersSchema.optional(),
    /** POSTed the run's summary, signed, when it ends (docs/callbacks.md). */
    callbackUrl: callbackUrlSchema.optional(),
  })
  .strict()
  .superRefine(checkSnippetFiles);
export type SnippetInput = z.infer<typeof snippetInputSchema>;

export const createRunInputSchema = z.discriminatedUnion('kind', [
  snippetInputSchema,
  z
    .object({
      kind: z.literal('tool'),
      toolId: z.string().min(1).max(64),
      projectId: z.string().min(1).max(128).optional(),
      exampleId: z.string().min(1).max(64).optional(),
      entry: z.string().min(1).max(255).optional(),
      /**
       * Arguments as the tool's `arguments` declare them (`tools.list`): options, then paths,
       * globs or a program's own arguments; checked against the tool and the project at create.
       */
      args: snippetArgsSchema.optional(),
      /** Extra environment variables: the names a snippet may set. */
      env: snippetEnvSchema.optional(),
      stdin: wireStdinSchema.optional(),
      /**
       * `project`: install what the project's requirements.txt, pyproject.toml or package.json
       * (+ package-lock.json) list, sandboxed, from the registries the server allows, cached by
       * their content; or a named environment the server declares.
       */
      environment: environmentNameSchema.optional(),
      limits: limitsOverrideSchema.optional(),
      outputFilters: outputFiltersSchema.optional(),
      callbackUrl: callbackUrlSchema.optional(),
    })
    .strict()
    .refine((input) => (input.projectId === undefined) !== (input.exampleId === undefined), {
      message: 'name exactly one of projectId and exampleId',
      path: ['projectId'],
    }),
]);
export type CreateRunInput = z.infer<typeof createRunInputSchema>;

/** Runs created in one call at most. */
export const MAX_BATCH_RUNS = 20;

/** Several runs in one call: each checked as `runs.create` checks it, an error naming its index. */
export const createBatchInputSchema = z
  .object({ runs: z.array(createRunInputSchema).min(1).max(MAX_BATCH_RUNS) })
  .strict();
export type CreateBatchInput = z.infer<typeof createBatchInputSchema>;

export const artifactViewSchema = z.object({
  path: z.string(),
  kind: z.string(),
  size: z.number(),
  sha256: z.string().nullable(),
  mediaType: z.string(),
  linkTarget: z.string().nullable().optional(),
});
