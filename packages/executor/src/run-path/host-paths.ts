import { tmpdir } from 'node:os';
import { dirname } from 'node:path';

/**
 * Directories of this host that no message a user sees may name: where the sandbox keeps its
 * files, the server's working directory (the checkout), the Node toolchain, the temp directory.
 * Longest first, so a path inside another is replaced whole.
 */
export function hostPathPrefixes(stateDir: string): string[] {
  const prefixes = [stateDir, process.cwd(), dirname(dirname(process.execPath)), tmpdir()];
  return [...new Set(prefixes.filter((prefix) => prefix.length > 1))].sort(
    (a, b) => b.length - a.length,
  );
}

/** The text with every path under one of the prefixes replaced by `<host>/…`. */
export function scrubHostPaths(text: string, prefixes: readonly string[]): string {
  let scrubbed = text;
  for (const prefix of prefixes) {
    scrubbed = scrubbed.split(prefix).join('<host>');
  }
  return scrubbed;
}
