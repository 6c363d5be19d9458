import type { EndState } from '../run-state.ts';
import type { SandboxLimits } from '../sandbox/limits.ts';

/** What pip and npm print when a package cannot be had, and how to name it. */
const PACKAGE_PATTERNS: readonly { pattern: RegExp; say: (name: string) => string }[] = [
  {
    pattern: /No matching distribution found for ([^\s;]+)/,
    say: (name) => `package "${name}" was not found on the Python package index`,
  },
  {
    pattern: /Could not find a version that satisfies the requirement ([^\s;]+)/,
    say: (name) => `package "${name}" was not found on the Python package index`,
  },
  {
    pattern: /Failed (?:building wheel|to build) (?:for )?([^\s;]+)/,
    say: (name) => `package "${name}" could not be built`,
  },
  {
    pattern: /'([^'\s]+)' is not in this registry/,
    say: (name) => `package "${name}" was not found on the npm registry`,
  },
  {
    pattern: /No matching version found for ([^\s.]+(?:\.[^\s.]+)*)\.?\s/,
    say: (name) => `no version of "${name}" matches on the npm registry`,
  },
  {
    pattern: /404 Not Found - GET \S+?\/((?:@[^\s/]+(?:\/|%2[fF]))?[^\s/]+) /,
    say: (name) => `package "${decodeURIComponent(name)}" was not found on the npm registry`,
  },
];

/** The first package pip or npm said it could not install, in their words turned into ours. */
export function failedPackage(output: string): string | null {
  let first: { index: number; text: string } | null = null;
  for (const { pattern, say } of PACKAGE_PATTERNS) {
    const match = pattern.exec(output);
    if (match?.[1] && (first === null || match.index < first.index))
      first = { index: match.index, text: say(match[1]) };
  }
  return first?.text ?? null;
}

/**
 * Why an install failed, for the run's error: which package where pip or npm named one, which
 * limit it hit, which host it was refused.
 */
export function installFailureMessage(failure: {
  label: string;
  state: EndState;
  exitCode: number | null;
  failure: string | null;
  limits: SandboxLimits;
  outputTail: string;
  refused: readonly string[];
}): string {
  const head = `installing environment "${failure.label}" failed`;
  const refused =
    failure.refused.length > 0
      ? `; it tried to reach ${[...new Set(failure.refused)].join(', ')}, which the egress proxy refused (not an allowed package registry)`
      : '';
  switch (failure.state) {
    case 'timed_out':
      return `${head}: it took longer than ${failure.limits.wallTimeMs / 1000} s, the install's time limit (RUNBOX_INSTALL_WALL_TIME_MS)${refused}`;
    case 'memory_limit':
      return `${head}: it ran out of memory (the install's limit is ${failure.limits.memoryBytes / 1024 / 1024} MiB)${refused}`;
    case 'output_limit':
      return `${head}: it printed more than ${failure.limits.outputBytes / 1024 / 1024} MiB${refused}`;
    case 'completed':
    case 'failed': {
      if (failure.exitCode === null || failure.exitCode === 0)
        return `${head}: ${failure.failure ?? 'what it made could not be kept'}${refused}`;
      const what = failedPackage(failure.outputTail);
      return `${head} (exit status ${failure.exitCode}): ${what ?? 'see its output above'}${refused}`;
    }
    default:
      return `${head}: ${failure.failure ?? failure.state}${refused}`;
  }
}
