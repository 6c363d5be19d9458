import type { RunboxErrorDetails } from '@runbox/api';
import { TRPC_URL } from './trpc';

export interface UploadedProject {
  id: string;
  name: string;
  fileCount: number;
  totalBytes: number;
  files: { path: string; size: number }[];
  /**
   * What the upload left out without refusing it (a link whose target leaves the project, a hard
   * link to nothing uploaded), each named with its rule. Absent from a project loaded again for
   * "run again" (`projects.get` does not keep them).
   */
  warnings?: { entry: string; rule: string; detail: string }[];
}

/** An upload refused by the server, with the structured details tRPC sends (data.runbox). */
export class UploadError extends Error {
  readonly data: { runbox?: RunboxErrorDetails | null; httpStatus?: number } | null;
  constructor(message: string, data: UploadError['data']) {
    super(message);
    this.name = 'UploadError';
    this.data = data;
  }
}

/**
 * projects.upload as one multipart POST through XMLHttpRequest, for its upload progress events
 * (fetch has none). The same fields the tRPC httpLink would send: `archive`, or `files` + `paths`.
 */
export function uploadProject(
  form: FormData,
  onProgress: (fraction: number) => void,
): Promise<UploadedProject> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${TRPC_URL}/projects.upload`);
    xhr.responseType = 'text';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new UploadError('the upload did not reach the server', null));
    xhr.onabort = () => reject(new UploadError('the upload was cancelled', null));
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        reject(new UploadError(`the server answered ${xhr.status} without JSON`, null));
        return;
      }
      const envelope = body as {
        result?: { data?: UploadedProject };
        error?: { message?: string; data?: UploadError['data'] } | string;
      };
      if (envelope.result?.data) {
        onProgress(1);
        resolve(envelope.result.data);
      } else if (typeof envelope.error === 'string') {
        reject(new UploadError(envelope.error, null));
      } else {
        reject(
          new UploadError(
            envelope.error?.message ?? `the upload failed (${xhr.status})`,
            envelope.error?.data ?? null,
          ),
        );
      }
    };
    xhr.send(form);
  });
}

/** Files from a drop, walking dropped folders, each with its path relative to the drop. */
export async function filesFromDrop(
  items: DataTransferItemList,
): Promise<{ file: File; path: string }[]> {
  const entries: FileSystemEntry[] = [];
  for (const item of Array.from(items)) {
    const entry = item.kind === 'file' ? item.webkitGetAsEntry() : null;
    if (entry) entries.push(entry);
  }
  const out: { file: File; path: string }[] = [];
  async function walk(entry: FileSystemEntry, prefix: string): Promise<void> {
    if (entry.isFile) {
      const file = await new Promise<File>((res, rej) =>
        (entry as FileSystemFileEntry).file(res, rej),
      );
      out.push({ file, path: prefix + entry.name });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((res, rej) =>
          reader.readEntries(res, rej),
        );
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, `${prefix}${entry.name}/`);
      }
    }
  }
  for (const entry of entries) await walk(entry, '');
  return out;
}

export function isArchiveName(name: string): boolean {
  return /\.(zip|tar|tgz|tar\.gz)$/i.test(name);
}
