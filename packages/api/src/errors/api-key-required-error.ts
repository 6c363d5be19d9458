import { OwnerRequiredError } from './api-errors.ts';

/**
 * A call that needs an owner, on a server with anonymous use off (RUNBOX_ANONYMOUS=off): the same
 * code as any call without an owner (OWNER_REQUIRED, 401), with a message that says what to send.
 */
export class ApiKeyRequiredError extends OwnerRequiredError {
  constructor() {
    super();
    this.message =
      'this server takes no anonymous calls: send an API key (Authorization: Bearer <key>; over the WebSocket, connectionParams.authorization)';
    this.name = 'ApiKeyRequiredError';
  }
}
