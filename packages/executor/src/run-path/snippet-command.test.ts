import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { baseSandboxEnv } from '../sandbox/sandbox-environment.ts';
import { snippetCommand } from './snippet-command.ts';

let workspace: string;
beforeEach(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'runbox-snippet-command-'));
});
afterEach(async () => rm(workspace, { recursive: true, force: true }));

describe("a snippet's prepare", () => {
  it('writes the entry and its files, and starts the entry with the arguments after it', async () => {
    const prepare = snippetCommand({
      language: 'python',
      code: 'import helper\n',
      owner: null,
      entry: 'app/main.py',
      files: [
        { name: 'app/helper.py', content: 'X = 1\n' },
        { name: 'app/pkg/deep.py', content: 'Y = 2\n' },
        { name: 'data.txt', content: 'héllo' },
      ],
      args: ['one', '--two', ''],
    });
    const command = await prepare(workspace);
    expect(await readFile(join(workspace, 'app/main.py'), 'utf8')).toBe('import helper\n');
    expect(await readFile(join(workspace, 'app/pkg/deep.py'), 'utf8')).toBe('Y = 2\n');
    expect(await readFile(join(workspace, 'data.txt'), 'utf8')).toBe('héllo');
    expect((await lstat(join(workspace, 'app/pkg'))).isDirectory()).toBe(true);
    expect(command.argv.slice(-4)).toEqual(['/workspace/app/main.py', 'one', '--two', '']);
    expect(command.env).toEqual(baseSandboxEnv());
  });

  it("adds variables to the sandbox's environment without replacing any of its own", async () => {
    const command = await snippetCommand({
      language: 'bash',
      code: 'echo $GREETING\n',
      owner: null,
      env: { GREETING: 'hi', PATH: '/evil' },
    })(workspace);
    expect(command.argv).toEqual(['/bin/bash', '/workspace/main.sh']);
    expect(command.env.GREETING).toBe('hi');
    expect(command.env.PATH).toBe(baseSandboxEnv().PATH);
  });

  it('never writes over what stands at a name', async () => {
    const prepare = snippetCommand({
      language: 'bash',
      code: 'true\n',
      owner: null,
      files: [{ name: 'main.sh', content: 'evil\n' }],
    });
    await expect(prepare(workspace)).rejects.toThrow(/EEXIST/);
  });
});
