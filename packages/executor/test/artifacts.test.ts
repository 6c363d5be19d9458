import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactNotFoundError } from '../src/artifacts/artifact-errors.ts';
import {
  artifactFilesDir,
  openArtifact,
  removeArtifacts,
  storeArtifacts,
} from '../src/artifacts/artifact-store.ts';
import type { ArtifactCollection } from '../src/artifacts/collect-artifacts.ts';
import { EMPTY_SNAPSHOT } from '../src/artifacts/workspace-snapshot.ts';
import { LANGUAGE_RUNTIMES } from '../src/languages/index.ts';
import { resolveLimits } from '../src/sandbox/limits.ts';
import { runSnippet } from '../src/run-path/run-snippet.ts';
import { createSandboxHost, type SandboxHost } from '../src/sandbox/sandbox-host.ts';
import { processesOfUid } from './support/sandbox-harness.ts';
import { claimTestUid } from './support/test-uid.ts';

const MiB = 1024 * 1024;
const suffix = randomBytes(3).toString('hex');
const sandboxUid = claimTestUid(64_100, 800);
const stateDir = join(tmpdir(), `runbox-test-artifacts-${suffix}`);
const storeRoot = join(stateDir, 'artifacts');
let host: SandboxHost;

beforeAll(async () => {
  // Like the harness's host, with the runners bound at /opt/runbox/runtime for Python.
  host = await createSandboxHost({
    stateDir,
    cgroupGroupName: `runbox-test-artifacts-${suffix}`,
    sandboxUid,
  });
});
afterAll(async () => {
  await host.close();
  await rm(stateDir, { recursive: true, force: true });
  expect(processesOfUid(sandboxUid)).toEqual([]);
});

const sha256 = (content: string | Buffer): string =>
  createHash('sha256').update(content).digest('hex');

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('artifacts of a real run', () => {
  it('keeps created files within the caps, lists a planted link and never follows it', async () => {
    const code = `
import os
with open("out.txt", "w") as f:
    f.write("hello from the sandbox\\n")
os.makedirs("data", exist_ok=True)
with open("data/result.csv", "w") as f:
    f.write("a,b\\n1,2\\n")
with open("big.bin", "wb") as f:
    for _ in range(20):
        f.write(b"x" * ${MiB})
os.symlink("/etc/passwd", "leak")
print("done")
`;
    const runId = `artifacts-${suffix}`;
    let collection: ArtifactCollection | undefined;
    const report = await runSnippet(host, {
      runId,
      language: 'python',
      code,
      limits: resolveLimits({}),
      inspectWorkspace: async (workspaceDir) => {
        // The workspace was empty before the code file was written into it.
        collection = await storeArtifacts({
          root: storeRoot,
          runId,
          workspaceDir,
          before: EMPTY_SNAPSHOT,
          exclude: [LANGUAGE_RUNTIMES.python.fileName],
          maxFileBytes: 10 * MiB,
        });
      },
    });
    expect(report.state).toBe('completed');

    expect(collection).toEqual({
      artifacts: [
        {
          path: 'data/result.csv',
          kind: 'file',
          size: 8,
          sha256: sha256('a,b\n1,2\n'),
          mediaType: 'text/csv',
        },
        {
          path: 'leak',
          kind: 'symlink',
          size: 0,
          sha256: null,
          mediaType: 'inode/symlink',
          linkTarget: '/etc/passwd',
        },
        {
          path: 'out.txt',
          kind: 'file',
          size: 23,
          sha256: sha256('hello from the sandbox\n'),
          mediaType: 'text/plain',
        },
      ],
      skipped: [{ path: 'big.bin', reason: 'file_too_large', size: 20 * MiB }],
      truncated: false,
    });

    const kept = filesUnder(artifactFilesDir(storeRoot, runId)).sort();
    expect(kept).toEqual([
      join(artifactFilesDir(storeRoot, runId), 'data', 'result.csv'),
      join(artifactFilesDir(storeRoot, runId), 'out.txt'),
    ]);
    const passwd = readFileSync('/etc/passwd');
    for (const file of filesUnder(join(storeRoot, runId))) {
      expect(readFileSync(file).includes(passwd)).toBe(false);
      expect(readFileSync(file, 'utf8')).not.toContain('root:x:0:0');
    }

    const out = await openArtifact(storeRoot, runId, 'out.txt');
    expect(out.mediaType).toBe('text/plain');
    expect(await text(out.stream)).toBe('hello from the sandbox\n');
    await expect(openArtifact(storeRoot, runId, 'leak')).rejects.toBeInstanceOf(
      ArtifactNotFoundError,
    );
    await expect(openArtifact(storeRoot, runId, 'big.bin')).rejects.toBeInstanceOf(
      ArtifactNotFoundError,
    );

    // The workspace is emptied by the run's cycle; the store is what remains, until removed.
    if (existsSync(report.workspaceDir)) expect(readdirSync(report.workspaceDir)).toEqual([]);
    await removeArtifacts(storeRoot, runId);
    expect(existsSync(join(storeRoot, runId))).toBe(false);
  });
});
