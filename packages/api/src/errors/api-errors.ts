/** Errors raised by the API itself; `toTRPCError` maps them (and the engine's) to the wire. */

export class RateLimitError extends Error {
  readonly code = 'RATE_LIMITED';
  readonly limit: string;
  readonly retryAfterMs: number;
  constructor(options: { limit: string; message: string; retryAfterMs: number }) {
    super(`${options.message}; retry in ${Math.ceil(options.retryAfterMs / 1000)} s`);
    this.name = 'RateLimitError';
    this.limit = options.limit;
    this.retryAfterMs = options.retryAfterMs;
  }
}

export class NotFoundError extends Error {
  readonly code = 'NOT_FOUND';
  readonly what: string;
  constructor(what: string, id: string) {
    super(`no ${what} ${JSON.stringify(id)}`);
    this.name = 'NotFoundError';
    this.what = what;
  }
}

export class AdminRequiredError extends Error {
  readonly code = 'ADMIN_REQUIRED';
  constructor() {
    super('this needs the admin token (header x-runbox-admin-token or Authorization: Bearer)');
    this.name = 'AdminRequiredError';
  }
}

export class OwnerRequiredError extends Error {
  readonly code = 'OWNER_REQUIRED';
  constructor() {
    super(
      'no owner: load a page of runbox first (it sets the runbox_owner cookie) or send an API key',
    );
    this.name = 'OwnerRequiredError';
  }
}

export class BadInputError extends Error {
  readonly code = 'BAD_INPUT';
  readonly field: string;
  constructor(field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'BadInputError';
    this.field = field;
  }
}

/**
 * Workers asked of a server that has none: without RUNBOX_REDIS_URL every run runs in the API's
 * own process, so there is no worker to drain.
 */
export class NoWorkersError extends Error {
  readonly code = 'NO_WORKERS';
  constructor() {
    super(
      'this server runs every run in its own process: it has no workers to drain (workers need RUNBOX_REDIS_URL)',
    );
    this.name = 'NoWorkersError';
  }
}
