/** Errors of sessions, raised by the engine and the API. Each names what happened. */

/** The session's kernel is running a cell; what was asked needs it idle. */
export class SessionBusyError extends Error {
  readonly code = 'SESSION_BUSY';
  constructor(what: string) {
    super(`the session is running a cell: ${what} waits until it ends (or interrupt it)`);
    this.name = 'SessionBusyError';
  }
}

/**
 * The session's kernel ended while it was asked something (it was killed, ran out of memory or
 * broke its protocol), or could not be started: the next cell starts it again.
 */
export class SessionKernelEndedError extends Error {
  readonly code = 'SESSION_KERNEL_ENDED';
  constructor(detail: string) {
    super(`the session's kernel ended: ${detail}`);
    this.name = 'SessionKernelEndedError';
  }
}

/** A cell of a session that is closed or unknown: the user's doing, so the cell ends `failed`. */
export class SessionGoneError extends Error {
  readonly userFault = true;
  readonly code = 'SESSION_GONE';
  readonly sessionId: string;
  constructor(sessionId: string) {
    super(`session ${JSON.stringify(sessionId)} is closed: its cells cannot run`);
    this.name = 'SessionGoneError';
    this.sessionId = sessionId;
  }
}

/** A variable name or value the session's language cannot take. */
export class InvalidVariableError extends Error {
  readonly userFault = true;
  readonly code = 'INVALID_VARIABLE';
  constructor(problem: string) {
    super(problem);
    this.name = 'InvalidVariableError';
  }
}

/**
 * With workers on Redis, no worker can take the session now (none is alive, or the session's
 * stopped answering while it was asked): runbox's state, not the request's; try again.
 */
export class SessionsUnavailableError extends Error {
  readonly code = 'SESSIONS_UNAVAILABLE';
  constructor(detail: string) {
    super(`no worker can run the session now: ${detail}`);
    this.name = 'SessionsUnavailableError';
  }
}
