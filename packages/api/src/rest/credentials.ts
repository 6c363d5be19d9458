import type { IncomingMessage } from 'node:http';
import type { ServerConfig } from '../config.ts';
import { credentialProblem } from '../credentials.ts';

/** Throws what is wrong with the request's credentials (see credentials.ts); REST answers 401. */
export function checkCredentials(
  req: IncomingMessage,
  config: Pick<ServerConfig, 'apiKeys' | 'adminToken'>,
): void {
  const adminHeader = req.headers['x-runbox-admin-token'];
  const problem = credentialProblem(
    {
      authorization: req.headers.authorization,
      adminToken: Array.isArray(adminHeader) ? (adminHeader[0] ?? '') : adminHeader,
    },
    config,
  );
  if (problem) throw problem;
}
