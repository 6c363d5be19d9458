import { z } from 'zod';

/**
 * The shape of a callback URL, checked where the run is created (pure: the web app imports the
 * schemas). Which hosts may be called is the address policy's business (address-policy.ts): a
 * literal address is judged at create, a name at every delivery.
 */

export const CALLBACK_URL_MAX_LENGTH = 2_048;

/** What is wrong with the text as a callback URL (the rule, then in words); null when nothing is. */
export function callbackUrlProblem(text: string): { rule: string; message: string } | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { rule: 'url', message: 'must be an absolute URL such as https://example.org/hook' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return {
      rule: 'url-scheme',
      message: `must be an https:// or http:// URL, not ${url.protocol.slice(0, -1)}:`,
    };
  }
  if (url.username !== '' || url.password !== '') {
    return {
      rule: 'url-credentials',
      message: 'must not carry a user name or password (put a token in the path or query)',
    };
  }
  if (url.hostname === '') return { rule: 'url-host', message: 'must name a host' };
  return null;
}

export const callbackUrlSchema = z
  .string()
  .max(CALLBACK_URL_MAX_LENGTH, `callbackUrl is limited to ${CALLBACK_URL_MAX_LENGTH} characters`)
  .superRefine((text, ctx) => {
    const problem = callbackUrlProblem(text);
    if (problem) {
      ctx.addIssue({
        code: 'custom',
        message: `callbackUrl ${problem.message}`,
        params: { rule: problem.rule },
      });
    }
  });
