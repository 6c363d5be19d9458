import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toolAppliesTo } from './tool-applies.ts';
import { toolCommand } from './tool-command.ts';
import { loadToolRegistry, parseToolRegistry } from './tool-registry.ts';
import { ToolRegistryError } from './tool-schema.ts';

const tool = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  id,
  name: id,
  description: `the ${id} tool`,
  argv: [id],
  appliesTo: { anyOf: ['*'] },
  binaries: [id],
  ...extra,
});

function registryError(data: unknown): ToolRegistryError {
  try {
    parseToolRegistry(data, 'test.json');
  } catch (error) {
    if (error instanceof ToolRegistryError) return error;
    throw error;
  }
  throw new Error('expected a ToolRegistryError');
}

describe('the shipped registry', () => {
  it('loads, with the tools runbox documents', async () => {
    const registry = await loadToolRegistry();
    expect(registry.tools.map((t) => t.id)).toEqual([
      'python',
      'node',
      'node-test',
      'bash',
      'pytest',
      'shellcheck',
      'cloc',
      'tsc',
      'eslint',
    ]);
    expect(registry.find('pytest')?.argv).toEqual([
      'python3',
      '-m',
      'pytest',
      '-q',
      '-p',
      'no:cacheprovider',
      '{args}',
    ]);
    expect(registry.find('nope')).toBeUndefined();
  });

  it('expands every argv for a project it applies to', async () => {
    const registry = await loadToolRegistry();
    const files = [
      'main.py',
      'test_main.py',
      'index.ts',
      'index.test.ts',
      'run.sh',
      'lib/util.sh',
      'tsconfig.json',
    ];
    const listing = { files, directories: ['lib'] };
    for (const each of registry.tools) {
      expect(toolAppliesTo(each, files), each.id).toBe(true);
      const { argv } = await toolCommand({ tool: each, projectDir: '/nonexistent', listing });
      expect(argv.join(' '), each.id).not.toMatch(/[{}]/);
    }
    const shellcheck = registry.find('shellcheck');
    if (!shellcheck) throw new Error('no shellcheck');
    expect(
      (await toolCommand({ tool: shellcheck, projectDir: '/nonexistent', listing })).argv,
    ).toEqual(['shellcheck', '--color=never', 'lib/util.sh', 'run.sh']);
  });
});

describe('parseToolRegistry', () => {
  it('keeps the order and finds tools by id', () => {
    const registry = parseToolRegistry({ tools: [tool('b'), tool('a')] }, 'test.json');
    expect(registry.tools.map((t) => t.id)).toEqual(['b', 'a']);
    expect(registry.find('a')?.name).toBe('a');
  });

  it('refuses a duplicate id, naming it', () => {
    const error = registryError({ tools: [tool('a'), tool('b'), tool('a')] });
    expect(error.toolId).toBe('a');
    expect(error.field).toBe('id');
    expect(error.message).toMatch(/test\.json: tool a, field id: .*#0 and #2/);
  });

  it('names the tool and the field of a bad tool', () => {
    const error = registryError({ tools: [tool('a'), tool('b', { argv: ['b', '{nope}'] })] });
    expect(error).toMatchObject({ toolId: 'b', field: 'argv.1', code: 'TOOL_REGISTRY_INVALID' });
    expect(registryError({ tools: [{ name: 'x' }] }).toolId).toBe('#0');
  });

  it('refuses a file without tools or with unknown keys', () => {
    expect(registryError({}).field).toBe('tools');
    expect(registryError({ tools: [] }).field).toBe('tools');
    expect(registryError({ tools: [tool('a')], extra: 1 }).toolId).toBeNull();
  });
});

describe('loadToolRegistry', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runbox-registry-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('says when the file is missing or not JSON', async () => {
    await expect(loadToolRegistry(join(dir, 'missing.json'))).rejects.toThrow(/cannot read/);
    await writeFile(join(dir, 'bad.json'), '{ "tools": [');
    await expect(loadToolRegistry(join(dir, 'bad.json'))).rejects.toThrow(/not JSON/);
  });

  it('reads a valid file', async () => {
    await writeFile(join(dir, 'ok.json'), JSON.stringify({ tools: [tool('x')] }));
    expect((await loadToolRegistry(join(dir, 'ok.json'))).tools).toHaveLength(1);
  });
});
