import { normalizeEntryPath } from './entry-path.ts';
import type { UploadTarget } from './upload-target.ts';

/** One file of an upload sent as loose files rather than an archive. */
export interface LooseFile {
  /** Relative path inside the project, '/'-separated ("src/index.ts"). */
  path: string;
  content: Buffer;
}

/**
 * Writes loose files. Every path, count, size and collision is checked for the whole list
 * before the first file is written.
 */
export async function writeLooseFiles(
  files: readonly LooseFile[],
  target: UploadTarget,
): Promise<void> {
  const admitted = files.map((file) => {
    const path = normalizeEntryPath(file.path, target.tally.limits);
    return { path: target.tally.admitFile(file.path, path, file.content.length).path, file };
  });
  for (const { path, file } of admitted) {
    await target.writer.file(path, file.content);
  }
}
