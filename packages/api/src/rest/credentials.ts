import type { IncomingMessage } from 'node:http';
import { sameSecret } from '../identity.ts';
import type { ServerConfig } from '../config.ts';
import { UnknownApiKeyError, WrongAdminTokenError } from './rest-errors.ts';

/**
 * Credentials are explicit on the REST surface: a call that sends an Authorization header or an
 * admin-token header is judged by it alone. A key this server does not know is refused (401),
 * never taken for an anonymous caller, so a script with a mistyped key finds out at its first
 * call instead of getting a fresh owner and then NOT_FOUND for its own runs. A call that sends
 * neither is anonymous where the server allows it (the owner cookie), else the procedures it
 * calls answer 401 naming what to send.
 */
export function checkCredentials(
  req: IncomingMessage,
  config: Pick<ServerConfig, 'apiKeys' | 'adminToken'>,
): void {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (bearer === undefined)
      throw new UnknownApiKeyError('the Authorization header must be "Bearer <API key>"');
    let known = sameSecret(bearer, config.adminToken);
    for (const key of config.apiKeys.keys()) if (sameSecret(bearer, key)) known = true;
    if (!known)
      throw new UnknownApiKeyError(
        'the bearer token is not an API key of this server (nor its admin token)',
      );
  }
  const adminHeader = req.headers['x-runbox-admin-token'];
  if (adminHeader !== undefined) {
    const token = Array.isArray(adminHeader) ? adminHeader[0] : adminHeader;
    if (token === undefined || !sameSecret(token, config.adminToken))
      throw new WrongAdminTokenError();
  }
}
