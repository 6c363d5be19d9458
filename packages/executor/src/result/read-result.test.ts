import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readResult } from './read-result.ts';
import { RESULT_FILE, SANDBOX_RESULT_PATH } from './result-path.ts';

let workspace: string;
beforeEach(async () => {
  workspace = await mkdtemp(join(tmpdir(), 'runbox-result-'));
});
afterEach(async () => {
  await rm(workspace, { recursive: true, force: true });
});

async function writeResultFile(content: string | Buffer): Promise<void> {
  await mkdir(join(workspace, '.runbox'), { recursive: true });
  await writeFile(join(workspace, RESULT_FILE), content);
}

describe('readResult', () => {
  it('knows where the result file is', () => {
    expect(SANDBOX_RESULT_PATH).toBe('/workspace/.runbox/result.json');
  });

  it('gives nothing when the run wrote no result', async () => {
    expect(await readResult(workspace)).toBeNull();
    await mkdir(join(workspace, '.runbox'));
    expect(await readResult(workspace)).toBeNull();
  });

  it('parses the JSON value', async () => {
    await writeResultFile('{"answer": 42, "list": [1, "two", null]}');
    expect(await readResult(workspace)).toEqual({ value: { answer: 42, list: [1, 'two', null] } });
    await writeResultFile('null');
    expect(await readResult(workspace)).toEqual({ value: null });
  });

  it('warns about invalid JSON, naming the problem', async () => {
    await writeResultFile('{"answer": ');
    const outcome = await readResult(workspace);
    expect(outcome).toMatchObject({ reason: 'invalid_json' });
    expect(outcome && 'warning' in outcome ? outcome.warning : '').toMatch(
      /result\.json is not valid JSON: .+/,
    );
    await writeResultFile(Buffer.from([0x22, 0xff, 0x22]));
    expect(await readResult(workspace)).toMatchObject({ reason: 'invalid_json' });
  });

  it('warns about a file over the cap and reads none of it as a value', async () => {
    await writeResultFile(JSON.stringify('x'.repeat(100)));
    expect(await readResult(workspace, { maxBytes: 64 })).toMatchObject({
      reason: 'too_large',
      warning: expect.stringContaining('64-byte cap'),
    });
    const exact = JSON.stringify('x'.repeat(62));
    await writeResultFile(exact);
    expect(await readResult(workspace, { maxBytes: 64 })).toEqual({ value: 'x'.repeat(62) });
  });

  it('never follows a link to the file or to its directory', async () => {
    await mkdir(join(workspace, '.runbox'));
    await symlink('/etc/passwd', join(workspace, RESULT_FILE));
    expect(await readResult(workspace)).toMatchObject({ reason: 'unsafe_path' });
    await rm(join(workspace, '.runbox'), { recursive: true });
    await symlink('/etc', join(workspace, '.runbox'));
    expect(await readResult(workspace)).toMatchObject({ reason: 'unsafe_path' });
  });
});
