import { BlockList, isIP, isIPv4, isIPv6 } from 'node:net';

/** One entry of RUNBOX_TRUST_PROXY: a proxy's address, or a network of them. */
export interface TrustedProxy {
  network: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/**
 * `10.0.0.5`, `10.0.0.0/8`, `::1`, `fd00::/8`, as an address with a prefix length; null when the
 * entry is none of these.
 */
export function parseTrustedProxy(entry: string): TrustedProxy | null {
  const [network = '', prefixText, extra] = entry.trim().split('/');
  if (extra !== undefined) return null;
  const family = isIPv4(network) ? 'ipv4' : isIPv6(network) ? 'ipv6' : null;
  if (!family) return null;
  const bits = family === 'ipv4' ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return null;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (prefix > bits) return null;
  return { network, prefix, family };
}

/** `::ffff:1.2.3.4` (an IPv4 client of a dual-stack socket) is 1.2.3.4. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped?.[1] ?? address;
}

/** An X-Forwarded-For entry as an address: `1.2.3.4`, `1.2.3.4:5678`, `[::1]:80` and `::1` are taken. */
function forwardedAddress(entry: string): string | null {
  const text = entry.trim();
  if (isIP(text)) return plainAddress(text);
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(text)?.[1];
  if (bracketed && isIPv6(bracketed)) return plainAddress(bracketed);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(text)?.[1];
  if (withPort && isIPv4(withPort)) return withPort;
  return null;
}

/** The request's parts an address is read from. */
export interface AddressSource {
  remoteAddress: string | undefined;
  forwardedFor: string | string[] | undefined;
}

/**
 * The client's address. By default the socket's peer, and X-Forwarded-For is ignored: any client
 * can write that header. With trusted proxies (RUNBOX_TRUST_PROXY), a request whose peer is one of
 * them has its X-Forwarded-For read from the right, each proxy's entry vouching for the one before
 * it, until the first address that is not a trusted proxy: that is the client. An entry that is
 * not an address stops the walk at the proxy that wrote it.
 */
export function createClientAddressResolver(
  trusted: readonly TrustedProxy[],
): (source: AddressSource) => string {
  const proxies = new BlockList();
  for (const proxy of trusted) proxies.addSubnet(proxy.network, proxy.prefix, proxy.family);
  const isTrusted = (address: string): boolean =>
    proxies.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');

  return ({ remoteAddress, forwardedFor }) => {
    let address = plainAddress(remoteAddress ?? '');
    if (!isIP(address)) return 'unknown';
    if (trusted.length === 0 || !isTrusted(address)) return address;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? ''))
      .split(',')
      .filter((hop) => hop.trim() !== '');
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = forwardedAddress(hops[i] ?? '');
      if (hop === null) return address;
      address = hop;
      if (!isTrusted(hop)) return hop;
    }
    return address;
  };
}

/** The eight 16-bit groups of a valid IPv6 address. */
function ipv6Groups(address: string): number[] {
  let text = address.split('%')[0] ?? '';
  const v4 = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const front = head ? head.split(':') : [];
  const back = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array<string>(8 - front.length - back.length).fill('0');
  return [...front, ...zeros, ...back].map((group) => Number.parseInt(group, 16));
}

/**
 * The address as limits count it: an IPv4 address as it is, an IPv6 address by its /64, since one
 * host commonly holds a whole /64 and could take a new address for every request.
 */
export function addressKey(address: string): string {
  if (!isIPv6(address)) return address;
  const groups = ipv6Groups(address).slice(0, 4);
  return `${groups.map((group) => group.toString(16)).join(':')}::/64`;
}
