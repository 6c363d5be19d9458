import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { type Tool, ToolRegistryError, toolRegistryFileSchema, toolSchema } from './tool-schema.ts';

/** The registry runbox ships: `packages/executor/tools.json`. */
export const DEFAULT_TOOL_REGISTRY_PATH = fileURLToPath(
  new URL('../../tools.json', import.meta.url),
);

export interface ToolRegistry {
  /** Where the registry was read from. */
  readonly source: string;
  /** Every tool, in the file's order. */
  readonly tools: readonly Tool[];
  /** The tool with this id, or undefined. */
  find(id: string): Tool | undefined;
}

function fieldOf(path: readonly PropertyKey[]): string {
  return path.map(String).join('.');
}

function firstIssue(error: z.ZodError): { field: string; problem: string } {
  const issue = error.issues[0];
  return { field: issue ? fieldOf(issue.path) : '', problem: issue?.message ?? 'invalid' };
}

/** Pure: validates registry data (the parsed JSON). Throws ToolRegistryError for the first fault. */
export function parseToolRegistry(data: unknown, source: string): ToolRegistry {
  const file = toolRegistryFileSchema.safeParse(data);
  if (!file.success) {
    throw new ToolRegistryError({ source, toolId: null, ...firstIssue(file.error) });
  }
  const tools: Tool[] = [];
  const byId = new Map<string, Tool>();
  for (const [index, raw] of file.data.tools.entries()) {
    const rawId =
      typeof raw === 'object' && raw !== null && 'id' in raw && typeof raw.id === 'string'
        ? raw.id
        : `#${index}`;
    const parsed = toolSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ToolRegistryError({ source, toolId: rawId, ...firstIssue(parsed.error) });
    }
    const tool = parsed.data;
    if (byId.has(tool.id)) {
      throw new ToolRegistryError({
        source,
        toolId: tool.id,
        field: 'id',
        problem: `the id is used by more than one tool (tools #${tools.indexOf(byId.get(tool.id) as Tool)} and #${index})`,
      });
    }
    byId.set(tool.id, tool);
    tools.push(tool);
  }
  return { source, tools, find: (id) => byId.get(id) };
}

/** Reads and validates a registry file. Throws ToolRegistryError naming the tool and the field. */
export async function loadToolRegistry(
  path: string = DEFAULT_TOOL_REGISTRY_PATH,
): Promise<ToolRegistry> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ToolRegistryError({
      source: path,
      toolId: null,
      field: '',
      problem: `cannot read: ${reason}`,
    });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ToolRegistryError({
      source: path,
      toolId: null,
      field: '',
      problem: `not JSON: ${reason}`,
    });
  }
  return parseToolRegistry(data, path);
}
