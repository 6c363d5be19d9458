/**
 * Whether a process lives (signal 0): one of another user's answers EPERM, and lives all the
 * same. Used to tell a dead host's leftovers from a live one's.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}
