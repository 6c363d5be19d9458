/** One line of /proc/self/mountinfo, the fields runbox reads. */
export interface MountEntry {
  /** Field 4: the mount's root, as a path inside its filesystem. */
  root: string;
  /** Field 5: where it is mounted. */
  mountPoint: string;
  fsType: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_match, octal: string) =>
    String.fromCharCode(parseInt(octal, 8)),
  );
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const fields = left.split(' ');
    const root = fields[3];
    const mountPoint = fields[4];
    const fsType = right.split(' ')[0];
    if (root === undefined || mountPoint === undefined || fsType === undefined) continue;
    entries.push({
      root: unescapeMountField(root),
      mountPoint: unescapeMountField(mountPoint),
      fsType,
    });
  }
  return entries;
}

function isAtOrUnder(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(`${dir}/`);
}

/**
 * The path of `absolutePath` inside its own filesystem: what mountinfo's root field shows for a
 * bind of it, wherever it is bound. A bind always names the source's place in its filesystem, so a
 * source whose answer here names the checkout or the sandbox directory shows it to the sandbox.
 * `absolutePath` must have no symbolic links in it (realpath first). The last mount on a path
 * is the one in force.
 */
export function pathInFilesystem(absolutePath: string, mounts: readonly MountEntry[]): string {
  let best: MountEntry | undefined;
  for (const entry of mounts) {
    if (!isAtOrUnder(absolutePath, entry.mountPoint)) continue;
    if (!best || entry.mountPoint.length >= best.mountPoint.length) best = entry;
  }
  if (!best) return absolutePath;
  const rest = best.mountPoint === '/' ? absolutePath : absolutePath.slice(best.mountPoint.length);
  const joined = `${best.root.replace(/\/$/, '')}${rest}`;
  return joined === '' ? '/' : joined;
}

/** Mount points at or under `dir`, deepest first (the order to unmount them in). */
export function mountPointsUnder(dir: string, mounts: readonly MountEntry[]): string[] {
  return mounts
    .map((entry) => entry.mountPoint)
    .filter((mountPoint) => isAtOrUnder(mountPoint, dir) && mountPoint !== '/')
    .sort((a, b) => b.length - a.length);
}
