import { ConfigError } from '@runbox/executor';
import { parseTrustedProxy, type TrustedProxy } from '../client-address.ts';
import { createAddressPolicy, describeRefusal, literalHostRefusal } from './address-policy.ts';
import { callbackUrlProblem } from './callback-url.ts';

/** The signed callbacks' settings (docs/callbacks.md), from the RUNBOX_CALLBACK_* variables. */
export interface CallbackConfig {
  /** Where runs that name no callbackUrl report their end; null: nowhere. */
  defaultUrl: string | null;
  /** `whsec_<base64>`: signs callbacks of runs with no key secret of their own; null: none. */
  serverSecret: string | null;
  /** API key name → `whsec_<base64>`: signs the callbacks of that key's runs. */
  keySecrets: ReadonlyMap<string, string>;
  /** Networks a callback may reach although the SSRF rule forbids them (loopback, private ...). */
  allowNetworks: readonly TrustedProxy[];
  /** The waits before the 2nd, 3rd ... attempt; its length + 1 is the most attempts made. */
  retryScheduleMs: readonly number[];
  /** No attempt starts later than this after the run ended; the delivery is then failed. */
  maxAgeMs: number;
  /** One attempt's limit, from connecting to the last byte of the answer read. */
  timeoutMs: number;
  /** Where clients reach runbox (links in the payload); null: the links are paths. */
  publicUrl: string | null;
  /** A signed `server.heartbeat` POST every intervalMs to a control plane; null: none. */
  heartbeat: { url: string; intervalMs: number } | null;
}

/** 5 s, 30 s, 2 min, 10 min, 1 h, 3 h, 6 h, 12 h: nine attempts over about 22 hours. */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  5_000, 30_000, 120_000, 600_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000,
];
export const DEFAULT_MAX_AGE_MS = 86_400_000;
export const DEFAULT_TIMEOUT_MS = 10_000;

const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;

/** A Standard Webhooks secret: `whsec_` then the base64 of 24 to 64 random bytes. */
export function parseWebhookSecret(variable: string, text: string): string {
  const body = text.startsWith('whsec_') ? text.slice('whsec_'.length) : null;
  const bytes =
    body !== null && /^[A-Za-z0-9+/]+={0,2}$/.test(body) && body.length % 4 === 0
      ? Buffer.from(body, 'base64').length
      : 0;
  if (bytes < MIN_SECRET_BYTES || bytes > MAX_SECRET_BYTES) {
    throw new ConfigError(
      variable,
      `must be whsec_ followed by the base64 of ${MIN_SECRET_BYTES} to ${MAX_SECRET_BYTES} random ` +
        'bytes (e.g. whsec_$(openssl rand -base64 32))',
    );
  }
  return text;
}

/** `name:whsec_...` pairs, comma-separated; each name must be one of RUNBOX_API_KEYS's. */
export function parseKeySecrets(text: string, keyNames: ReadonlySet<string>): Map<string, string> {
  const secrets = new Map<string, string>();
  for (const entry of text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const colon = entry.indexOf(':');
    const name = colon > 0 ? entry.slice(0, colon) : '';
    if (!keyNames.has(name)) {
      throw new ConfigError(
        'RUNBOX_CALLBACK_KEY_SECRETS',
        `each entry must be name:whsec_..., the name one of RUNBOX_API_KEYS's (${JSON.stringify(name || entry.slice(0, 20))} is not)`,
      );
    }
    secrets.set(name, parseWebhookSecret('RUNBOX_CALLBACK_KEY_SECRETS', entry.slice(colon + 1)));
  }
  return secrets;
}

function parseNetworks(text: string): TrustedProxy[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((entry) => {
      const network = parseTrustedProxy(entry);
      if (!network) {
        throw new ConfigError(
          'RUNBOX_CALLBACK_ALLOW_NETWORKS',
          `${JSON.stringify(entry)} is not an IP address or a CIDR network (e.g. 127.0.0.0/8)`,
        );
      }
      return network;
    });
}

function parseSchedule(text: string): number[] {
  const delays = text
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map(Number);
  if (delays.length > 50 || delays.some((d) => !Number.isInteger(d) || d < 1 || d > 604_800_000)) {
    throw new ConfigError(
      'RUNBOX_CALLBACK_RETRY_SCHEDULE_MS',
      'must be up to 50 waits in ms, comma-separated, each from 1 to 604800000 (empty: one attempt)',
    );
  }
  return delays;
}

function parseUrl(variable: string, text: string): string {
  const problem = callbackUrlProblem(text);
  if (problem) throw new ConfigError(variable, problem.message);
  return text;
}

/** The variables as config.ts validated their types; the callbacks' own rules checked here. */
export interface CallbackEnv {
  RUNBOX_CALLBACK_URL?: string | undefined;
  RUNBOX_CALLBACK_SECRET?: string | undefined;
  RUNBOX_CALLBACK_KEY_SECRETS: string;
  RUNBOX_CALLBACK_ALLOW_NETWORKS: string;
  RUNBOX_CALLBACK_RETRY_SCHEDULE_MS?: string | undefined;
  RUNBOX_CALLBACK_MAX_AGE_MS: number;
  RUNBOX_CALLBACK_TIMEOUT_MS: number;
  RUNBOX_PUBLIC_URL?: string | undefined;
  RUNBOX_HEARTBEAT_URL?: string | undefined;
  RUNBOX_HEARTBEAT_INTERVAL_MS: number;
}

export function callbackConfigFrom(
  env: CallbackEnv,
  keyNames: ReadonlySet<string>,
): CallbackConfig {
  const serverSecret =
    env.RUNBOX_CALLBACK_SECRET === undefined
      ? null
      : parseWebhookSecret('RUNBOX_CALLBACK_SECRET', env.RUNBOX_CALLBACK_SECRET);
  const defaultUrl =
    env.RUNBOX_CALLBACK_URL === undefined
      ? null
      : parseUrl('RUNBOX_CALLBACK_URL', env.RUNBOX_CALLBACK_URL);
  const heartbeatUrl =
    env.RUNBOX_HEARTBEAT_URL === undefined
      ? null
      : parseUrl('RUNBOX_HEARTBEAT_URL', env.RUNBOX_HEARTBEAT_URL);
  if (heartbeatUrl !== null && serverSecret === null) {
    throw new ConfigError(
      'RUNBOX_HEARTBEAT_URL',
      'needs RUNBOX_CALLBACK_SECRET (beats are signed)',
    );
  }
  if (defaultUrl !== null && serverSecret === null) {
    throw new ConfigError(
      'RUNBOX_CALLBACK_URL',
      'needs RUNBOX_CALLBACK_SECRET (every run may report there, so the server signs)',
    );
  }
  const allowNetworks = parseNetworks(env.RUNBOX_CALLBACK_ALLOW_NETWORKS);
  const policy = createAddressPolicy(allowNetworks);
  for (const [variable, url] of [
    ['RUNBOX_CALLBACK_URL', defaultUrl],
    ['RUNBOX_HEARTBEAT_URL', heartbeatUrl],
  ] as const) {
    const refused = url === null ? null : literalHostRefusal(new URL(url), policy);
    if (refused !== null) {
      throw new ConfigError(
        variable,
        `its host is ${describeRefusal(refused)}: allow it in RUNBOX_CALLBACK_ALLOW_NETWORKS`,
      );
    }
  }
  return {
    defaultUrl,
    serverSecret,
    keySecrets: parseKeySecrets(env.RUNBOX_CALLBACK_KEY_SECRETS, keyNames),
    allowNetworks,
    retryScheduleMs:
      env.RUNBOX_CALLBACK_RETRY_SCHEDULE_MS === undefined
        ? DEFAULT_RETRY_SCHEDULE_MS
        : parseSchedule(env.RUNBOX_CALLBACK_RETRY_SCHEDULE_MS),
    maxAgeMs: env.RUNBOX_CALLBACK_MAX_AGE_MS,
    timeoutMs: env.RUNBOX_CALLBACK_TIMEOUT_MS,
    publicUrl:
      env.RUNBOX_PUBLIC_URL === undefined
        ? null
        : parseUrl('RUNBOX_PUBLIC_URL', env.RUNBOX_PUBLIC_URL).replace(/\/+$/, ''),
    heartbeat:
      heartbeatUrl === null
        ? null
        : { url: heartbeatUrl, intervalMs: env.RUNBOX_HEARTBEAT_INTERVAL_MS },
  };
}
