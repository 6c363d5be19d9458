import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scanProject } from './copy-project.ts';
import { ToolNotApplicableError } from './tool-applies.ts';
import { ToolArgvError } from './tool-argv.ts';
import { toolCommand } from './tool-command.ts';
import { loadToolRegistry, type ToolRegistry } from './tool-registry.ts';
import type { Tool } from './tool-schema.ts';

let root: string;
let registry: ToolRegistry;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'runbox-tool-command-'));
  registry = await loadToolRegistry();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function tool(id: string): Tool {
  const found = registry.find(id);
  if (!found) throw new Error(`no tool ${id}`);
  return found;
}

/** A project on disk, listed as a run's checks list it (no link followed). */
async function project(name: string, files: Record<string, string>) {
  const dir = join(root, name);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await mkdir(dir, { recursive: true });
  const scan = await scanProject(dir, { maxBytes: 64 * 1024 * 1024 });
  return {
    projectDir: dir,
    listing: {
      files: scan.files.map((file) => file.path),
      directories: scan.directories,
      links: scan.links.map((link) => link.path),
    },
  };
}

describe('toolCommand', () => {
  it('puts the run’s arguments in place of {args}, after the tool’s own', async () => {
    const where = await project('pytest-args', {
      'tests/test_a.py': 'def test_a(): pass\n',
      'tests/test_b.py': 'def test_b(): pass\n',
    });
    const command = await toolCommand({
      tool: tool('pytest'),
      ...where,
      args: ['-k', 'a', 'tests/test_a.py'],
    });
    expect(command.argv).toEqual([
      'python3',
      '-m',
      'pytest',
      '-q',
      '-p',
      'no:cacheprovider',
      '-k',
      'a',
      'tests/test_a.py',
    ]);
    expect(command.notices).toEqual([]);
  });

  it('sets PYTHONPATH for a src layout under pytest, says so, and lets the sandbox’s own win', async () => {
    const where = await project('src-layout', {
      'src/calc/__init__.py': 'def add(a, b):\n    return a + b\n',
      'tests/test_calc.py': 'from calc import add\n',
    });
    const command = await toolCommand({
      tool: tool('pytest'),
      ...where,
      env: { GREETING: 'hi' },
    });
    expect(command.env).toMatchObject({
      PYTHONPATH: '/workspace/src',
      GREETING: 'hi',
      HOME: '/tmp',
      PYTHONUNBUFFERED: '1',
    });
    expect(command.detected).toEqual([
      expect.objectContaining({ name: 'PYTHONPATH', file: 'src/calc/__init__.py' }),
    ]);
    expect(command.notices).toEqual([
      {
        check: 'tool-env',
        rule: 'detected-env',
        message: expect.stringMatching(
          /^PYTHONPATH=\/workspace\/src was set: the project has a src\/ layout.*\(src\/calc\/__init__\.py\)$/,
        ) as string,
      },
    ]);
    // A flat project gets nothing; nor does another tool.
    const flat = await project('flat-layout', { 'test_x.py': 'def test_x(): pass\n' });
    expect((await toolCommand({ tool: tool('pytest'), ...flat })).env.PYTHONPATH).toBeUndefined();
    expect((await toolCommand({ tool: tool('cloc'), ...where })).env.PYTHONPATH).toBeUndefined();
  });

  it('checks scripts known by their shebang with ShellCheck, and the named files only when named', async () => {
    const where = await project('shebangs', {
      deploy: '#!/usr/bin/env bash\necho "$1"\n',
      'bin/setup': '#!/bin/sh\necho hi\n',
      'bin/tool': '#!/usr/bin/env python3\nprint(1)\n',
      README: 'read me\n',
    });
    await symlink('deploy', join(where.projectDir, 'linked'));
    const all = await toolCommand({ tool: tool('shellcheck'), ...where });
    expect(all.argv).toEqual(['shellcheck', '--color=never', 'bin/setup', 'deploy']);
    const named = await toolCommand({
      tool: tool('shellcheck'),
      ...where,
      args: ['-S', 'warning', 'deploy'],
    });
    expect(named.argv).toEqual(['shellcheck', '--color=never', '-S', 'warning', 'deploy']);
  });

  it('refuses a tool with no file it applies to, saying what it looked for', async () => {
    const where = await project('no-scripts', { 'bin/tool': '#!/usr/bin/env python3\n' });
    const refusal = toolCommand({ tool: tool('shellcheck'), ...where });
    await expect(refusal).rejects.toBeInstanceOf(ToolNotApplicableError);
    await expect(refusal).rejects.toThrow(
      /"shellcheck" does not apply to this project: no file matches \*\.sh, \*\.bash, and no file without an extension starts with a sh, bash, dash, ksh shebang/,
    );
    // Named in the arguments, a file is checked whatever its name.
    const named = await toolCommand({ tool: tool('shellcheck'), ...where, args: ['bin/tool'] });
    expect(named.argv.at(-1)).toBe('bin/tool');
    // Program arguments select no file: python still needs its entry.
    await expect(
      toolCommand({ tool: tool('python'), ...where, args: ['main.py'] }),
    ).rejects.toBeInstanceOf(ToolNotApplicableError);
  });

  it('refuses an entry for a tool that takes none, naming the field', async () => {
    const where = await project('entry-unused', { 'a.sh': 'echo hi\n' });
    const refusal = await toolCommand({ tool: tool('shellcheck'), ...where, entry: 'a.sh' }).catch(
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(ToolArgvError);
    expect(refusal).toMatchObject({ field: 'entry', rule: 'entry-unused' });
  });

  it('gives program arguments after the entry, and cloc its default operand', async () => {
    const where = await project('program', { 'main.py': 'print(1)\n' });
    expect(
      (await toolCommand({ tool: tool('python'), ...where, args: ['--verbose', 'x y'] })).argv,
    ).toEqual(['python3', 'main.py', '--verbose', 'x y']);
    expect((await toolCommand({ tool: tool('cloc'), ...where })).argv).toEqual([
      'cloc',
      '--quiet',
      '.',
    ]);
    expect(
      (await toolCommand({ tool: tool('cloc'), ...where, args: ['--by-file', 'main.py'] })).argv,
    ).toEqual(['cloc', '--quiet', '--by-file', 'main.py']);
  });
});
