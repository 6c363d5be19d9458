import {
  ABSOLUTE_RANGES,
  DEFAULT_LIMITS,
  LIMIT_NAMES,
  type SandboxLimits,
  type Tool,
} from '@runbox/executor';
import { z } from 'zod';
import { publicProcedure, router } from '../trpc.ts';

/** One value a tool's argument takes (packages/executor/src/tools/tool-arguments.ts). */
const toolValueViewSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('text'), name: z.string() }),
  z.object({
    kind: z.literal('path'),
    name: z.string(),
    accepts: z.enum(['file', 'directory', 'any']),
    testId: z.boolean(),
  }),
  z.object({ kind: z.literal('glob'), name: z.string() }),
  z.object({ kind: z.literal('integer'), name: z.string(), min: z.number(), max: z.number() }),
  z.object({ kind: z.literal('choice'), oneOf: z.array(z.string()) }),
  z.object({
    kind: z.literal('pattern'),
    name: z.string(),
    pattern: z.string(),
    example: z.string(),
  }),
]);

/** What a run of the tool may put in `args`; absent for a tool that takes none. */
const toolArgumentsViewSchema = z.object({
  description: z.string(),
  options: z.array(
    z.object({
      name: z.string(),
      aliases: z.array(z.string()),
      value: toolValueViewSchema.nullable(),
      repeatable: z.boolean(),
      description: z.string(),
    }),
  ),
  operands: z
    .object({
      value: toolValueViewSchema,
      max: z.number(),
      description: z.string(),
      /** What runs in their place when a run names none, e.g. `["."]`. */
      default: z.array(z.string()),
    })
    .nullable(),
});

const toolViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  available: z.boolean(),
  reason: z.string().nullable(),
  version: z.string().nullable(),
  appliesTo: z.array(z.string()),
  /** Files without an extension count too when their shebang names one of these (ShellCheck). */
  shebangs: z.array(z.string()).optional(),
  /** Whether a run may name the file the tool starts from (`entry`). */
  takesEntry: z.boolean().optional(),
  arguments: toolArgumentsViewSchema.optional(),
  /** Variables set for projects laid out as the tool expects, e.g. PYTHONPATH for src/. */
  detectedEnv: z
    .array(
      z.object({
        name: z.string(),
        value: z.string(),
        when: z.array(z.string()),
        reason: z.string(),
      }),
    )
    .optional(),
  limits: z.record(z.string(), z.number()),
});

function argumentsView(tool: Tool): z.infer<typeof toolArgumentsViewSchema> | undefined {
  const declared = tool.arguments;
  if (!declared) return undefined;
  return {
    description: declared.description,
    options: declared.options.map((option) => ({
      name: option.name,
      aliases: [...option.aliases],
      value: option.value ?? null,
      repeatable: option.repeatable,
      description: option.description,
    })),
    operands: declared.operands
      ? {
          value: declared.operands.value,
          max: declared.operands.max,
          description: declared.operands.description,
          default: [...declared.operands.default],
        }
      : null,
  };
}

export const toolsRouter = router({
  list: publicProcedure.output(z.array(toolViewSchema)).query(({ ctx }) =>
    ctx.services.tools.list().map((entry) => ({
      id: entry.tool.id,
      name: entry.tool.name,
      description: entry.tool.description,
      available: entry.available,
      reason: entry.reason ?? null,
      version: entry.version ?? null,
      appliesTo: [...entry.tool.appliesTo.anyOf],
      ...(entry.tool.appliesTo.shebangs ? { shebangs: [...entry.tool.appliesTo.shebangs] } : {}),
      takesEntry: entry.tool.entry !== undefined,
      ...(entry.tool.arguments ? { arguments: argumentsView(entry.tool) } : {}),
      ...(entry.tool.detectedEnv
        ? { detectedEnv: entry.tool.detectedEnv.map((detected) => ({ ...detected })) }
        : {}),
      limits: { ...entry.tool.limits },
    })),
  ),
});

export const examplesRouter = router({
  list: publicProcedure
    .output(
      z.array(
        z.object({
          id: z.string(),
          name: z.string(),
          description: z.string(),
          tool: z.string(),
          /** Limits the example sets over its tool's (a run may still ask for others). */
          limits: z.record(z.string(), z.number()),
        }),
      ),
    )
    .query(({ ctx }) =>
      ctx.services.examples.map((example) => ({
        id: example.id,
        name: example.name,
        description: example.description,
        tool: example.tool,
        limits: { ...example.limits },
      })),
    ),
});

const environmentViewSchema = z.object({
  /** Whether a project's own manifests can be installed here (a registry is allowed for them). */
  project: z.object({ python: z.boolean(), node: z.boolean() }),
  /** The environments the operator declared, by name, with their packages. */
  named: z.array(
    z.object({
      name: z.string(),
      description: z.string().nullable(),
      python: z.array(z.string()),
      node: z.record(z.string(), z.string()),
    }),
  ),
});

/** The environments a run may pick (`environment`): `project` and the operator's named ones. */
export const environmentsRouter = router({
  list: publicProcedure.output(environmentViewSchema).query(({ ctx }) => {
    const settings = ctx.services.config.executor.environments;
    return {
      project: { python: settings.pipIndexUrl !== null, node: settings.npmRegistry !== null },
      named: Object.entries(settings.named).map(([name, environment]) => ({
        name,
        description: environment.description ?? null,
        python: [...(environment.python ?? [])],
        node: { ...environment.node },
      })),
    };
  }),
});

const limitValuesSchema = z.object({
  wallTimeMs: z.number(),
  memoryBytes: z.number(),
  maxProcesses: z.number(),
  cpus: z.number(),
  tmpBytes: z.number(),
  workspaceBytes: z.number(),
  openFiles: z.number(),
  outputBytes: z.number(),
});

function lowestAllowed(): SandboxLimits {
  const minimums = { ...DEFAULT_LIMITS };
  for (const field of LIMIT_NAMES) minimums[field] = ABSOLUTE_RANGES[field][0];
  return minimums;
}

/** What a run may ask for on this server: the defaults a snippet gets, and the range of each limit. */
export const limitsRouter = router({
  get: publicProcedure
    .output(
      z.object({
        defaults: limitValuesSchema,
        minimums: limitValuesSchema,
        maximums: limitValuesSchema,
        maxOutputLines: z.number(),
      }),
    )
    .query(({ ctx }) => ({
      defaults: { ...DEFAULT_LIMITS },
      minimums: lowestAllowed(),
      maximums: { ...ctx.services.config.maximums },
      maxOutputLines: ctx.services.config.maxOutputLines,
    })),
});
