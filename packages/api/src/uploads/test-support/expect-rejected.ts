import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { storeUpload, type UploadSource } from '../store-upload.ts';
import { UploadRejectedError, type UploadRejectionRule } from '../upload-errors.ts';
import type { UploadLimits } from '../upload-limits.ts';

/** TEST SCAFFOLDING: a fresh, empty projects root under the system temp directory. */
export async function makeProjectsRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'runbox-uploads-'));
}

export async function removeProjectsRoot(root: string): Promise<void> {
  await rm(root, { recursive: true, force: true });
}

/**
 * Runs storeUpload on a fresh projects root, expects an UploadRejectedError with this rule and
 * entry, and that the root is empty afterwards (no project, no temporary directory).
 */
export async function expectRejected(
  source: UploadSource,
  expected: {
    rule: UploadRejectionRule;
    entry: string | null;
    limits?: Partial<UploadLimits>;
    limit?: number | null;
  },
): Promise<UploadRejectedError> {
  const root = await makeProjectsRoot();
  try {
    let caught: unknown = null;
    try {
      await storeUpload({ source, projectsRoot: root, projectId: 'p1', limits: expected.limits });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UploadRejectedError);
    const error = caught as UploadRejectedError;
    expect({ rule: error.rule, entry: error.entry }).toEqual({
      rule: expected.rule,
      entry: expected.entry,
    });
    expect(error.code).toBe('UPLOAD_REJECTED');
    if (expected.entry !== null) expect(error.message).toContain(`entry "${expected.entry}"`);
    if (expected.limit !== undefined) expect(error.limit).toBe(expected.limit);
    expect(await readdir(root)).toEqual([]);
    return error;
  } finally {
    await removeProjectsRoot(root);
  }
}
