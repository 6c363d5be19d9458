import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { limitsOverrideSchema, type LimitsOverride } from '../sandbox/limits.ts';
import { resolveToolLimits } from './tool-env.ts';
import type { Tool } from './tool-schema.ts';

/** The examples runbox ships: `examples/` at the repo root. */
export const DEFAULT_EXAMPLES_DIR = fileURLToPath(new URL('../../../../examples', import.meta.url));

/** Each example folder holds its files and this manifest. */
export const EXAMPLE_MANIFEST = 'runbox.json';

/** An example's id is its folder's name. */
export const EXAMPLE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

export const exampleManifestSchema = z
  .object({
    /** Shown to users, e.g. "Hello, Python". */
    name: z.string().min(1).max(80),
    /** What the example shows, for users. */
    description: z.string().min(1).max(500),
    /** Id of the tool that runs it (tools.json). */
    tool: z.string().min(1),
    /** The entry file for the tool's `{entry}`, relative to the example. Default the tool's. */
    entry: z.string().min(1).max(255).optional(),
    /** Limits of its runs, over the tool's. Default none. */
    limits: limitsOverrideSchema.default({}),
  })
  .strict();

export interface Example {
  /** The folder's name. */
  id: string;
  name: string;
  description: string;
  tool: string;
  entry?: string | undefined;
  limits: LimitsOverride;
  /** The example's folder on the host: the project a run copies. */
  dir: string;
}

export class ExampleError extends Error {
  readonly code = 'EXAMPLE_INVALID';
  readonly exampleId: string;
  /** The manifest field at fault, '' for the example as a whole. */
  readonly field: string;
  constructor(exampleId: string, field: string, problem: string) {
    super(`example ${exampleId}: ${field ? `field ${field}: ` : ''}${problem}`);
    this.name = 'ExampleError';
    this.exampleId = exampleId;
    this.field = field;
  }
}

/**
 * Every folder of `dir` (but hidden ones) is an example with a runbox.json manifest; sorted by id.
 * With `tools`, each example's tool must exist and its limits must be valid over the tool's.
 * Throws ExampleError for the first fault.
 */
export async function loadExamples(
  dir: string = DEFAULT_EXAMPLES_DIR,
  options: { tools?: readonly Tool[] | undefined } = {},
): Promise<Example[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const examples: Example[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.') || !entry.isDirectory()) continue;
    const id = entry.name;
    if (!EXAMPLE_ID_PATTERN.test(id)) {
      throw new ExampleError(id, '', 'the folder name must be lower-case letters, digits and "-"');
    }
    const exampleDir = join(dir, id);
    let data: unknown;
    try {
      data = JSON.parse(await readFile(join(exampleDir, EXAMPLE_MANIFEST), 'utf8'));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ExampleError(id, '', `cannot read ${EXAMPLE_MANIFEST}: ${reason}`);
    }
    const parsed = exampleManifestSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ExampleError(
        id,
        issue ? issue.path.map(String).join('.') : '',
        issue?.message ?? 'invalid',
      );
    }
    const manifest = parsed.data;
    if (options.tools) {
      const tool = options.tools.find((candidate) => candidate.id === manifest.tool);
      if (!tool) throw new ExampleError(id, 'tool', `no tool ${JSON.stringify(manifest.tool)}`);
      try {
        resolveToolLimits(tool, manifest.limits);
      } catch (error) {
        throw new ExampleError(
          id,
          'limits',
          error instanceof Error ? error.message : String(error),
        );
      }
    }
    examples.push({
      id,
      name: manifest.name,
      description: manifest.description,
      tool: manifest.tool,
      entry: manifest.entry,
      limits: manifest.limits,
      dir: exampleDir,
    });
  }
  return examples;
}
