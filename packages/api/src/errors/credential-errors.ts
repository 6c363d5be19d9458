import { AdminRequiredError, OwnerRequiredError } from './api-errors.ts';

/** A bearer token that is neither an API key of this server nor its admin token. */
export class UnknownApiKeyError extends OwnerRequiredError {
  readonly field = 'authorization';
  readonly rule = 'known-api-key';
  constructor(message: string) {
    super();
    this.message = message;
    this.name = 'UnknownApiKeyError';
  }
}

/** An x-runbox-admin-token header that is not this server's admin token. */
export class WrongAdminTokenError extends AdminRequiredError {
  readonly field = 'x-runbox-admin-token';
  readonly rule = 'admin-token';
  constructor() {
    super();
    this.message = "x-runbox-admin-token is not this server's admin token";
    this.name = 'WrongAdminTokenError';
  }
}
