import { isIPv4, isIPv6 } from 'node:net';

/**
 * What kind of address an IP address is, for the callbacks' SSRF rule: only `public` addresses
 * are called unless the operator allows a network (RUNBOX_CALLBACK_ALLOW_NETWORKS).
 *
 * IPv6 forms that carry an IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
 * `::a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address inside:
 * `::ffff:127.0.0.1` is loopback, however it is written.
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'cgnat'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  /** Not an IP address at all. */
  | 'invalid';

interface Range {
  /** The network as bytes (4 for IPv4, 16 for IPv6), then its prefix length in bits. */
  bytes: readonly number[];
  prefix: number;
  kind: Exclude<AddressClass, 'public' | 'invalid'>;
}

const v4 = (text: string, prefix: number, kind: Range['kind']): Range => ({
  bytes: text.split('.').map(Number),
  prefix,
  kind,
});

// Most specific first: the first range that holds the address decides.
const IPV4_RANGES: readonly Range[] = [
  v4('255.255.255.255', 32, 'broadcast'),
  v4('0.0.0.0', 8, 'unspecified'),
  v4('10.0.0.0', 8, 'private'),
  v4('100.64.0.0', 10, 'cgnat'),
  v4('127.0.0.0', 8, 'loopback'),
  v4('169.254.0.0', 16, 'link-local'),
  v4('172.16.0.0', 12, 'private'),
  v4('192.0.0.0', 24, 'reserved'), // IETF protocol assignments
  v4('192.0.2.0', 24, 'reserved'), // documentation (TEST-NET-1)
  v4('192.88.99.0', 24, 'reserved'), // 6to4 relay anycast (deprecated)
  v4('192.168.0.0', 16, 'private'),
  v4('198.18.0.0', 15, 'reserved'), // benchmarking
  v4('198.51.100.0', 24, 'reserved'), // documentation (TEST-NET-2)
  v4('203.0.113.0', 24, 'reserved'), // documentation (TEST-NET-3)
  v4('224.0.0.0', 4, 'multicast'),
  v4('240.0.0.0', 4, 'reserved'),
];

const v6 = (text: string, prefix: number, kind: Range['kind']): Range => ({
  bytes: ipv6Bytes(text) ?? [],
  prefix,
  kind,
});

const IPV6_RANGES: readonly Range[] = [
  v6('::', 128, 'unspecified'),
  v6('::1', 128, 'loopback'),
  v6('100::', 64, 'reserved'), // discard-only
  v6('2001::', 32, 'reserved'), // Teredo: an IPv4 address inside, obfuscated
  v6('2001:db8::', 32, 'reserved'), // documentation
  v6('fc00::', 7, 'private'), // unique local
  v6('fe80::', 10, 'link-local'),
  v6('fec0::', 10, 'private'), // site-local (deprecated)
  v6('ff00::', 8, 'multicast'),
];

function inRange(bytes: readonly number[], range: Range): boolean {
  let bits = range.prefix;
  for (let i = 0; bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((bytes[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** The 16 bytes of a valid IPv6 address (a zone `%eth0` is dropped); null for anything else. */
export function ipv6Bytes(address: string): number[] | null {
  const text = address.split('%')[0] ?? '';
  if (!isIPv6(text)) return null;
  let groupsText = text;
  const tail = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    groupsText = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = groupsText.split('::');
  const front = head ? head.split(':') : [];
  const back = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? [] : Array<string>(8 - front.length - back.length).fill('0');
  const groups = [...front, ...zeros, ...back].map((group) => Number.parseInt(group, 16));
  return groups.flatMap((group) => [group >> 8, group & 0xff]);
}

/**
 * The IPv4 address an IPv6 address stands for, when it is one of the forms that carry one
 * (mapped, compatible, NAT64, 6to4); null otherwise.
 */
export function embeddedIPv4(bytes: readonly number[]): string | null {
  const zero = (from: number, to: number): boolean => bytes.slice(from, to).every((b) => b === 0);
  const quad = (at: number): string => bytes.slice(at, at + 4).join('.');
  // ::ffff:a.b.c.d (mapped)
  if (zero(0, 10) && bytes[10] === 0xff && bytes[11] === 0xff) return quad(12);
  // ::a.b.c.d (compatible, deprecated); :: and ::1 are IPv6's own and ranged before this
  if (zero(0, 12)) return quad(12);
  // 64:ff9b::a.b.c.d (NAT64, RFC 6052)
  if (
    bytes[0] === 0x00 &&
    bytes[1] === 0x64 &&
    bytes[2] === 0xff &&
    bytes[3] === 0x9b &&
    zero(4, 12)
  )
    return quad(12);
  // 2002:AABB:CCDD::/48 (6to4)
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return quad(2);
  return null;
}

function classifyIPv4(address: string): AddressClass {
  const bytes = address.split('.').map(Number);
  return IPV4_RANGES.find((range) => inRange(bytes, range))?.kind ?? 'public';
}

/** The class of an IP address (IPv4, or IPv6 with or without brackets and zone). */
export function classifyAddress(address: string): AddressClass {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(text)) return classifyIPv4(text);
  const bytes = ipv6Bytes(text);
  if (!bytes) return 'invalid';
  const own = IPV6_RANGES.find((range) => inRange(bytes, range));
  if (own) return own.kind;
  const inner = embeddedIPv4(bytes);
  return inner === null ? 'public' : classifyIPv4(inner);
}

/**
 * The address as the allow list compares it: an IPv6 form that carries an IPv4 address is that
 * IPv4 address, so `127.0.0.0/8` in the list covers `::ffff:127.0.0.1` too.
 */
export function comparableAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  if (isIPv4(text)) return { address: text, family: 'ipv4' };
  const bytes = ipv6Bytes(text);
  const inner = bytes ? embeddedIPv4(bytes) : null;
  if (inner !== null) return { address: inner, family: 'ipv4' };
  return { address: text.split('%')[0] ?? text, family: 'ipv6' };
}
