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
