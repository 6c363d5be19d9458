/** Errors the engine raises at its edge. Each names what was wrong; the API maps them to the wire. */

export class QueueFullError extends Error {
  readonly code = 'QUEUE_FULL';
  readonly queueLength: number;
  readonly maxQueueLength: number;
  constructor(queueLength: number, maxQueueLength: number) {
    super(`the queue is full: ${queueLength} runs are waiting (at most ${maxQueueLength})`);
    this.name = 'QueueFullError';
    this.queueLength = queueLength;
    this.maxQueueLength = maxQueueLength;
  }
}

export class RunNotFoundError extends Error {
  readonly code = 'RUN_NOT_FOUND';
  readonly runId: string;
  constructor(runId: string) {
    super(`no run ${JSON.stringify(runId)}`);
    this.name = 'RunNotFoundError';
    this.runId = runId;
  }
}

export class ShuttingDownError extends Error {
  readonly code = 'SHUTTING_DOWN';
  constructor() {
    super('runbox is shutting down and takes no new runs');
    this.name = 'ShuttingDownError';
  }
}

export class InvalidRunRequestError extends Error {
  readonly code = 'INVALID_RUN_REQUEST';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'InvalidRunRequestError';
    this.field = field;
  }
}

export class UnknownToolError extends Error {
  /** The user's request is at fault, not runbox (see run-path/user-fault.ts). */
  readonly userFault = true;
  readonly code = 'UNKNOWN_TOOL';
  readonly toolId: string;
  constructor(toolId: string, reason?: string) {
    super(
      reason
        ? `tool ${JSON.stringify(toolId)} is unavailable: ${reason}`
        : `no tool ${JSON.stringify(toolId)}`,
    );
    this.name = 'UnknownToolError';
    this.toolId = toolId;
  }
}

/** A subscriber asked for events older than both the in-memory log and the store hold. */
export class EventsUnavailableError extends Error {
  readonly code = 'EVENTS_UNAVAILABLE';
  readonly afterSeq: number;
  readonly oldestKept: number;
  constructor(runId: string, afterSeq: number, oldestKept: number) {
    super(
      `events of run ${runId} after ${afterSeq} are no longer kept in memory and no store has them (oldest kept: ${oldestKept}; resume after ${oldestKept - 1})`,
    );
    this.name = 'EventsUnavailableError';
    this.afterSeq = afterSeq;
    this.oldestKept = oldestKept;
  }
}

/** Input sent to a run that does not take it now (not interactive, input closed, ended, full). */
export class RunNotInteractiveError extends Error {
  readonly code = 'RUN_NOT_INTERACTIVE';
  readonly runId: string;
  constructor(runId: string, problem: string) {
    super(`run ${JSON.stringify(runId)} ${problem}`);
    this.name = 'RunNotInteractiveError';
    this.runId = runId;
  }
}
