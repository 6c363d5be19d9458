import { UnknownToolError } from '../engine/engine-errors.ts';
import type { ToolSupport } from '../engine/tool-support.ts';
import type { SandboxHost } from '../sandbox/sandbox-host.ts';
import { checkToolRun, prepareToolRun } from './prepare-tool-run.ts';
import { probeTools, type ToolProbeResult } from './tool-probe.ts';
import { loadToolRegistry, DEFAULT_TOOL_REGISTRY_PATH } from './tool-registry.ts';
import type { Tool } from './tool-schema.ts';

export interface CatalogEntry {
  tool: Tool;
  available: boolean;
  reason?: string | undefined;
  version?: string | undefined;
}

/** The registry's tools with their availability on this host, probed inside the sandbox at start. */
export interface ToolCatalog extends ToolSupport {
  list(): readonly CatalogEntry[];
  find(toolId: string): CatalogEntry | undefined;
}

export async function createToolCatalog(
  host: SandboxHost,
  options: {
    registryPath?: string;
    /**
     * Probe each tool in this host's sandbox. False for a process that runs none itself (an API
     * whose workers run everything, each probing its own): every registered tool is listed as
     * available, and a worker that lacks one says so when it prepares the run. @default true
     */
    probe?: boolean;
  } = {},
): Promise<ToolCatalog> {
  const registry = await loadToolRegistry(options.registryPath ?? DEFAULT_TOOL_REGISTRY_PATH);
  const probed =
    options.probe === false
      ? registry.tools.map((tool) => ({ toolId: tool.id, available: true }))
      : await probeTools(host, registry.tools);
  const probes = new Map<
    string,
    Pick<ToolProbeResult, 'toolId' | 'available'> & Partial<ToolProbeResult>
  >(probed.map((probe) => [probe.toolId, probe]));
  const entries: CatalogEntry[] = registry.tools.map((tool) => {
    const probe = probes.get(tool.id);
    return {
      tool,
      available: probe?.available ?? false,
      reason: probe?.reason,
      version: probe?.version,
    };
  });
  const byId = new Map(entries.map((entry) => [entry.tool.id, entry]));

  function usable(toolId: string): Tool {
    const entry = byId.get(toolId);
    if (!entry) throw new UnknownToolError(toolId);
    if (!entry.available)
      throw new UnknownToolError(toolId, entry.reason ?? 'not available on this host');
    return entry.tool;
  }

  return {
    list: () => entries,
    find: (toolId) => byId.get(toolId),
    limits: (toolId) => usable(toolId).limits ?? {},
    check: (input) => checkToolRun({ ...input, tool: usable(input.toolId) }),
    async prepare(input) {
      const prepared = await prepareToolRun({ ...input, tool: usable(input.toolId) });
      return {
        argv: prepared.argv,
        env: prepared.env,
        ...(prepared.layer ? { layer: prepared.layer } : {}),
      };
    },
  };
}
