import { BlockList, isIP } from 'node:net';
import type { TrustedProxy } from '../client-address.ts';
import { classifyAddress, comparableAddress, type AddressClass } from './address-class.ts';

/** A class of address runbox does not call, and why (for messages and the delivery log). */
export type RefusedClass = Exclude<AddressClass, 'public'>;

/**
 * Which addresses a callback may go to: public ones, plus any in the operator's allowed networks
 * (RUNBOX_CALLBACK_ALLOW_NETWORKS, e.g. `127.0.0.0/8` for a receiver on this host).
 */
export interface AddressPolicy {
  /** Null when the address may be called; else its class, which is why it may not. */
  refusal(address: string): RefusedClass | null;
}

export function createAddressPolicy(allowed: readonly TrustedProxy[]): AddressPolicy {
  const list = new BlockList();
  for (const network of allowed) {
    // An IPv4-mapped network in the list is its IPv4 network (addresses are compared that way).
    const plain = comparableAddress(network.network);
    const prefix =
      plain.family === 'ipv4' && network.family === 'ipv6'
        ? Math.max(0, network.prefix - 96)
        : network.prefix;
    list.addSubnet(plain.address, prefix, plain.family);
  }
  return {
    refusal(address) {
      const kind = classifyAddress(address);
      if (kind === 'public') return null;
      if (kind === 'invalid') return kind;
      const plain = comparableAddress(address);
      return list.check(plain.address, plain.family) ? null : kind;
    },
  };
}

/** The host of a URL as an address, without IPv6's brackets; null when it is a name. */
export function literalAddress(hostname: string): string | null {
  const text =
    hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(text) ? text : null;
}

/**
 * What can be told from the URL alone, before any name is resolved: a literal address the policy
 * refuses, or `localhost` (RFC 6761: always loopback, never sent to DNS). Null when the host is a
 * literal address the policy allows or a name to resolve at delivery.
 */
export function literalHostRefusal(url: URL, policy: AddressPolicy): RefusedClass | null {
  const host = url.hostname.toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return policy.refusal('127.0.0.1');
  const address = literalAddress(host);
  return address === null ? null : policy.refusal(address);
}

/** In words, for error messages and the delivery log. */
export function describeRefusal(kind: RefusedClass): string {
  switch (kind) {
    case 'loopback':
      return 'a loopback address';
    case 'private':
      return 'a private address (RFC 1918 or unique local)';
    case 'link-local':
      return 'a link-local address';
    case 'cgnat':
      return 'a shared (carrier-grade NAT) address';
    case 'unspecified':
      return 'the unspecified address';
    case 'multicast':
      return 'a multicast address';
    case 'broadcast':
      return 'the broadcast address';
    case 'reserved':
      return 'a reserved or documentation address';
    case 'invalid':
      return 'not a valid address';
  }
}
