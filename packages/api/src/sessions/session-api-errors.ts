/** Errors of the sessions API; `toTRPCError` maps them with the rest. */

/** A session refused by a count: the owner's sessions, the server's, or a session's waiting cells. */
export class SessionLimitError extends Error {
  readonly code = 'SESSION_LIMIT';
  /** `sessionsPerOwner`, `sessionsInAll` or `cellsWaiting`. */
  readonly limit: string;
  constructor(limit: string, message: string) {
    super(message);
    this.name = 'SessionLimitError';
    this.limit = limit;
  }
}

/** Sessions need the embedded engine: with workers on Redis there are none (yet). */
export class SessionsUnavailableError extends Error {
  readonly code = 'SESSIONS_UNAVAILABLE';
  constructor(what: string) {
    super(
      `${what} run in the server's own process: this server runs its runs on workers (RUNBOX_REDIS_URL)`,
    );
    this.name = 'SessionsUnavailableError';
  }
}
