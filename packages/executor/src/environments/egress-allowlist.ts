/**
 * What a dependency install may reach: the origins (scheme, host, port) of the package
 * registries the operator named. The egress proxy (egress-proxy.ts) asks `isAllowedOrigin` about
 * each request; nothing here resolves names, because the operator lists names and the proxy
 * connects to exactly the name it matched.
 */

/** One registry origin an install may reach. */
export interface AllowedOrigin {
  /** `https` origins are reached through CONNECT tunnels, `http` ones as forwarded requests. */
  scheme: 'http' | 'https';
  /** Lower case; an IPv6 address without its brackets. */
  host: string;
  port: number;
}

/**
 * An operator's registry URL or host list that cannot be an allowed origin. `value` is the entry
 * at fault and `problem` what is wrong with it, so that whoever read it from an environment
 * variable can re-raise it naming the variable.
 */
export class EgressConfigError extends Error {
  readonly code = 'EGRESS_CONFIG';
  readonly value: string;
  readonly problem: string;
  constructor(value: string, problem: string, accepted: string) {
    super(`"${value}": ${problem} (accepted: ${accepted})`);
    this.name = 'EgressConfigError';
    this.value = value;
    this.problem = problem;
  }
}

const URL_ACCEPTED = 'an http:// or https:// URL with a host and no user name or password';
const HOSTS_ACCEPTED =
  'comma-separated host, host:port (https) or http://host:port, e.g. files.pythonhosted.org, registry.example:8443';

const DEFAULT_PORTS = { http: 80, https: 443 } as const;

/**
 * The origin of an operator's registry URL, e.g. `https://pypi.org/simple` → https pypi.org:443.
 * The path is dropped: the proxy allows whole origins, since a registry's index links to files
 * anywhere under it.
 */
export function allowedOriginOf(url: string): AllowedOrigin {
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    throw new EgressConfigError(url, 'not a URL', URL_ACCEPTED);
  }
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme !== 'http' && scheme !== 'https')
    throw new EgressConfigError(url, `scheme ${scheme}: is not http or https`, URL_ACCEPTED);
  // Credentials would be sent to whoever answers; a registry that needs them is out of scope.
  if (parsed.username !== '' || parsed.password !== '')
    throw new EgressConfigError(url, 'has a user name or password', URL_ACCEPTED);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') throw new EgressConfigError(url, 'has no host', URL_ACCEPTED);
  const port = parsed.port === '' ? DEFAULT_PORTS[scheme] : Number(parsed.port);
  if (port < 1) throw new EgressConfigError(url, `port ${port} is not 1..65535`, URL_ACCEPTED);
  return { scheme, host, port };
}

/**
 * `files.pythonhosted.org, registry.example:8443, http://10.0.0.5:4873` → origins; a bare name is
 * https (on 443 unless a port is given), since registries outside a test bench are. An empty
 * list (or only commas and spaces) is none.
 */
export function parseEgressHosts(value: string): AllowedOrigin[] {
  const origins: AllowedOrigin[] = [];
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    origins.push(originOfHostEntry(entry));
  }
  return origins;
}

function originOfHostEntry(entry: string): AllowedOrigin {
  if (entry.includes('://')) {
    try {
      return allowedOriginOf(entry);
    } catch (error) {
      if (!(error instanceof EgressConfigError)) throw error;
      throw new EgressConfigError(entry, error.problem, HOSTS_ACCEPTED);
    }
  }
  // A bare entry is only host[:port]: a path, user name or query is a typo, not a wish.
  if (parseAuthority(entry, DEFAULT_PORTS.https) === null)
    throw new EgressConfigError(entry, 'is not host or host:port', HOSTS_ACCEPTED);
  try {
    // Through the URL parser so that the host reads as an operator's URL's would (IDN, case).
    return allowedOriginOf(`https://${entry}`);
  } catch (error) {
    if (!(error instanceof EgressConfigError)) throw error;
    throw new EgressConfigError(entry, 'is not host or host:port', HOSTS_ACCEPTED);
  }
}

/** A host and port a client asked for, as it wrote them (host in lower case, no brackets). */
export interface Authority {
  host: string;
  port: number;
}

const AUTHORITY = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s/?#@[\]:]+))(?::(\d{1,5}))?$/;

/**
 * `host:port`, `[v6]:port` or, with a default port, a bare `host` → its parts; anything else
 * (user info, a path, an empty or out-of-range port, a bare IPv6 address) → null. Only the case
 * is changed: the proxy matches the name as the client sent it, never a resolved or re-parsed one.
 */
export function parseAuthority(text: string, defaultPort?: number): Authority | null {
  const match = AUTHORITY.exec(text);
  if (!match) return null;
  const host = (match[1] ?? match[2] ?? '').toLowerCase();
  const port = match[3] === undefined ? defaultPort : Number(match[3]);
  if (host === '' || port === undefined || port < 1 || port > 65_535) return null;
  return { host, port };
}

/** Whether an origin is on the list: scheme, host (case-insensitive) and port all equal. */
export function isAllowedOrigin(
  allow: readonly AllowedOrigin[],
  scheme: AllowedOrigin['scheme'],
  authority: Authority,
): boolean {
  const host = authority.host.toLowerCase();
  return allow.some(
    (origin) =>
      origin.scheme === scheme &&
      origin.host.toLowerCase() === host &&
      origin.port === authority.port,
  );
}

/** `host:port`, with brackets around an IPv6 address: how CONNECT names a target. */
export function formatAuthority(authority: Authority): string {
  const host = authority.host.includes(':') ? `[${authority.host}]` : authority.host;
  return `${host}:${authority.port}`;
}

/** `pypi.org:443, http://127.0.0.1:4873`: the list as a refused client is told it. */
export function describeAllowed(allow: readonly AllowedOrigin[]): string {
  if (allow.length === 0) return 'none';
  return allow
    .map((origin) =>
      origin.scheme === 'https' ? formatAuthority(origin) : `http://${formatAuthority(origin)}`,
    )
    .join(', ');
}
