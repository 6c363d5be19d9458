import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExampleError, loadExamples } from './examples.ts';
import { loadToolRegistry } from './tool-registry.ts';

describe('the shipped examples', () => {
  it('load, each with a tool of the shipped registry', async () => {
    const registry = await loadToolRegistry();
    const examples = await loadExamples(undefined, { tools: registry.tools });
    expect(examples.map((example) => example.id)).toEqual([
      'failing-python',
      'hello-python',
      'infinite-loop',
      'memory-hog',
      'node-typescript-tests',
      'pytest-project',
      'shell-progress',
      'shellcheck-script',
      'streaming-output',
    ]);
    expect(examples.find((example) => example.id === 'infinite-loop')?.limits).toEqual({
      wallTimeMs: 3000,
    });
  });
});

describe('loadExamples', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'runbox-examples-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function example(id: string, manifest: unknown): Promise<void> {
    await mkdir(join(dir, id));
    await writeFile(join(dir, id, 'runbox.json'), JSON.stringify(manifest));
  }
  const tools = [
    {
      id: 'python',
      name: 'Python',
      description: 'd',
      argv: ['python3'],
      appliesTo: { anyOf: ['*'] },
      binaries: ['python3'],
      limits: {},
      env: {},
    },
  ];

  it('reads the manifests, sorted by folder, and skips hidden folders and files', async () => {
    await example('b-two', { name: 'B', description: 'b', tool: 'python', entry: 'x.py' });
    await example('a-one', { name: 'A', description: 'a', tool: 'python' });
    await mkdir(join(dir, '.hidden'));
    await writeFile(join(dir, 'README.md'), '# examples');
    expect(await loadExamples(dir, { tools })).toEqual([
      {
        id: 'a-one',
        name: 'A',
        description: 'a',
        tool: 'python',
        entry: undefined,
        limits: {},
        dir: join(dir, 'a-one'),
      },
      {
        id: 'b-two',
        name: 'B',
        description: 'b',
        tool: 'python',
        entry: 'x.py',
        limits: {},
        dir: join(dir, 'b-two'),
      },
    ]);
  });

  it('names the example and the field of a bad manifest', async () => {
    await example('bad', { name: 'Bad', description: 'd', tool: 'python', limits: { cpu: 2 } });
    await expect(loadExamples(dir)).rejects.toThrow(/^example bad: field limits: /);
  });

  it('refuses a folder without a manifest, an unknown tool and limits out of range', async () => {
    await mkdir(join(dir, 'empty'));
    await expect(loadExamples(dir)).rejects.toThrow(/example empty: cannot read runbox\.json/);
    await rm(join(dir, 'empty'), { recursive: true });

    await example('other', { name: 'O', description: 'd', tool: 'ruby' });
    await expect(loadExamples(dir, { tools })).rejects.toMatchObject({
      code: 'EXAMPLE_INVALID',
      exampleId: 'other',
      field: 'tool',
    });
    await rm(join(dir, 'other'), { recursive: true });

    await example('tiny', {
      name: 'T',
      description: 'd',
      tool: 'python',
      limits: { wallTimeMs: 1 },
    });
    const error = await loadExamples(dir, { tools }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExampleError);
    expect(error).toMatchObject({ field: 'limits' });
  });

  it('refuses a folder name that cannot be an id', async () => {
    await example('Bad Name', { name: 'x', description: 'd', tool: 'python' });
    await expect(loadExamples(dir)).rejects.toThrow(/folder name/);
  });
});
