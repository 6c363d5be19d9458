import { readFile, writeFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export class SandboxDirInUseError extends Error {
  readonly code = 'SANDBOX_DIR_IN_USE';
  constructor(dir: string, pid: number) {
    super(
      `another runbox process (pid ${pid}) uses the sandbox directory ${dir}; give this one its own RUNBOX_SANDBOX_DIR`,
    );
    this.name = 'SandboxDirInUseError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/**
 * A server clears the stale workspaces and cgroups of its sandbox directory at start, which would
 * wreck the runs of a second live server sharing it: the second refuses to start instead.
 */
export async function claimSandboxDir(dir: string): Promise<{ release(): Promise<void> }> {
  const file = join(dir, 'server.pid');
  const text = await readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  if (Number.isInteger(pid) && pid !== process.pid && alive(pid))
    throw new SandboxDirInUseError(dir, pid);
  await writeFile(file, `${process.pid}\n`, { mode: 0o600 });
  return {
    async release() {
      const current = await readFile(file, 'utf8').catch(() => '');
      if (Number.parseInt(current, 10) === process.pid) await rm(file, { force: true });
    },
  };
}
