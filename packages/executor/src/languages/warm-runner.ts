/**
 * How a warm sandbox of a language starts and learns its run. The language's runner starts with
 * `argv`, loads, says it is ready and waits for its arguments on stdin (runtime/run_python.py,
 * runtime/run-node.mjs: `--warm`).
 */
export interface WarmRunner {
  readonly argv: readonly string[];
  /**
   * The runner's arguments (result path, file, the program's arguments) when `runArgv` starts this
   * runner, the way a cold sandbox would; null for any other command, which takes the cold path.
   */
  argumentsOf(runArgv: readonly string[]): string[] | null;
}

/** A runner started as `...prefix ARGS`; warm, as `...prefix --warm ...warmFlags`. */
export function prefixedWarmRunner(
  prefix: readonly string[],
  warmFlags: readonly string[] = [],
): WarmRunner {
  return {
    argv: [...prefix, '--warm', ...warmFlags],
    argumentsOf(runArgv) {
      if (runArgv.length <= prefix.length) return null;
      if (!prefix.every((part, index) => runArgv[index] === part)) return null;
      return runArgv.slice(prefix.length);
    },
  };
}
