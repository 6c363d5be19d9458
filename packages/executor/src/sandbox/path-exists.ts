import { access } from 'node:fs/promises';

/** Whether anything is at `path` (following links, as access(2) does). */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
