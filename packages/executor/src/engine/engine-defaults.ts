import { availableParallelism } from 'node:os';

/**
 * What the engine does when its caller leaves a setting out. The engine and the server's
 * configuration both read these, so a default is stated once; the README's configuration table
 * repeats the ones an environment variable can change.
 */
export interface EngineDefaults {
  /**
   * Runs at once (`ExecutorConfig.concurrency`, `RUNBOX_CONCURRENCY`).
   * @default os.availableParallelism() - the cores this process may use, read once at start
   */
  readonly concurrency: number;
  /**
   * Waiting runs at most; beyond it submit fails with QueueFullError
   * (`ExecutorConfig.maxQueueLength`, `RUNBOX_MAX_QUEUE`).
   * @default 100
   */
  readonly maxQueueLength: number;
  /**
   * Lines a run may print (pieces of cut long lines included) before it ends as output_limit
   * (`ExecutorConfig.output.maxLines`, `RUNBOX_MAX_OUTPUT_LINES`).
   * @default 100_000
   */
  readonly maxOutputLines: number;
  /**
   * Longest line in bytes before it is cut into pieces (`ExecutorConfig.output.maxLineBytes`).
   * @default 16_384 (16 KiB)
   */
  readonly maxLineBytes: number;
  /**
   * A line without its newline yet is shown after this long, so a prompt or a progress bar
   * appears (`ExecutorConfig.output.partialFlushMs`).
   * @default 100
   */
  readonly partialFlushMs: number;
  /**
   * Events kept in memory per run; older ones come back through `hooks.readEvents`
   * (`ExecutorConfig.logMaxEvents`).
   * @default 20_000
   */
  readonly logMaxEvents: number;
  /**
   * Ended runs kept in memory, for `get` and late subscribers; older ones are forgotten
   * (`ExecutorConfig.keepEndedRuns`).
   * @default 500
   */
  readonly keepEndedRuns: number;
  /**
   * Time between two live usage events (CPU, memory) of a running run
   * (`ExecutorConfig.usageIntervalMs`).
   * @default 1_000
   */
  readonly usageIntervalMs: number;
  /**
   * Check a snippet's syntax inside the sandbox before it is queued, so a bad one is refused
   * with its line (`ExecutorConfig.syntaxCheck`).
   * @default true
   */
  readonly syntaxCheck: boolean;
}

export const ENGINE_DEFAULTS: EngineDefaults = Object.freeze({
  concurrency: availableParallelism(),
  maxQueueLength: 100,
  maxOutputLines: 100_000,
  maxLineBytes: 16 * 1024,
  partialFlushMs: 100,
  logMaxEvents: 20_000,
  keepEndedRuns: 500,
  usageIntervalMs: 1_000,
  syntaxCheck: true,
});
