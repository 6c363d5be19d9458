import { sameSecret } from './identity.ts';
import { UnknownApiKeyError, WrongAdminTokenError } from './errors/credential-errors.ts';

/** What a request sent to say who it is (headers over HTTP, connectionParams over the WebSocket). */
export interface SentCredentials {
  authorization?: string | undefined;
  adminToken?: string | undefined;
}

/**
 * Credentials are explicit: a request that sends an Authorization header or an admin token is
 * judged by it alone. A key this server does not know is refused (401), never taken for an
 * anonymous caller or for the cookie sent beside it, so a script with a mistyped key finds out at
 * its first call instead of getting a fresh owner and then NOT_FOUND for its own runs. Null: what
 * was sent is this server's, or nothing was sent (anonymous where the server allows it).
 */
export function credentialProblem(
  sent: SentCredentials,
  secrets: { adminToken: string; apiKeys: ReadonlyMap<string, string> },
): UnknownApiKeyError | WrongAdminTokenError | null {
  if (sent.authorization !== undefined) {
    const bearer = /^Bearer\s+(\S+)$/i.exec(sent.authorization)?.[1];
    if (bearer === undefined)
      return new UnknownApiKeyError('the Authorization header must be "Bearer <API key>"');
    let known = sameSecret(bearer, secrets.adminToken);
    for (const key of secrets.apiKeys.keys()) if (sameSecret(bearer, key)) known = true;
    if (!known)
      return new UnknownApiKeyError(
        'the bearer token is not an API key of this server (nor its admin token)',
      );
  }
  if (sent.adminToken !== undefined && !sameSecret(sent.adminToken, secrets.adminToken))
    return new WrongAdminTokenError();
  return null;
}
