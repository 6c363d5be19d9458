import type { RunCallback } from '../store/outbox.ts';
import { literalHostRefusal, type AddressPolicy } from './address-policy.ts';
import type { CallbackConfig } from './callback-config.ts';
import { CallbackRefusedError } from './callback-errors.ts';

/**
 * The callback a new run gets: the URL it names, else the server's default; signed with its API
 * key's secret when that key has one, else the server's. Throws CallbackRefusedError when the run
 * names a URL and no secret can sign for it, or its host is a literal address (or `localhost`)
 * the SSRF rule forbids. Names are judged at every delivery, when they are resolved.
 */
export function callbackForNewRun(
  config: CallbackConfig,
  policy: AddressPolicy,
  caller: { owner: string; anonymous: boolean },
  requested: string | undefined,
): RunCallback | null {
  const url = requested ?? config.defaultUrl;
  if (url === null) return null;
  const keyName =
    !caller.anonymous && caller.owner.startsWith('key:') ? caller.owner.slice('key:'.length) : null;
  const secretId =
    keyName !== null && config.keySecrets.has(keyName)
      ? `key:${keyName}`
      : config.serverSecret !== null
        ? 'server'
        : null;
  // The default URL always has the server's secret (config.ts refuses one without).
  if (secretId === null) throw new CallbackRefusedError({ rule: 'no-secret' });
  if (requested !== undefined) {
    const refused = literalHostRefusal(new URL(url), policy);
    if (refused) throw new CallbackRefusedError({ rule: 'forbidden-address', address: refused });
  }
  return { url, secretId };
}
