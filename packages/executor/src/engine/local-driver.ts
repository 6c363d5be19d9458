import { ENGINE_DEFAULTS } from './engine-defaults.ts';
import { executeRun } from './execute-run.ts';
import type { ExecutorConfig, RunDriver } from './executor-types.ts';
import { createRunQueue } from './run-queue.ts';
import type { WorkspaceInspector } from './workspace-inspector.ts';

/** Runs wait in a p-queue of this process and run in its sandbox host: the embedded default. */
export function localDriver(config: ExecutorConfig, inspector: WorkspaceInspector): RunDriver {
  return {
    queue: createRunQueue({ concurrency: config.concurrency ?? ENGINE_DEFAULTS.concurrency }),
    runsElsewhere: false,
    execute: (record, context) =>
      executeRun(
        {
          host: config.host,
          config,
          inspector,
          emit: context.emit,
          onInternalError: context.onInternalError,
          stdin: context.stdin,
          onProgram: context.onProgram,
        },
        record,
        { signal: context.signal, interrupted: context.interrupted },
      ),
  };
}
