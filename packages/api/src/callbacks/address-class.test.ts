import { describe, expect, it } from 'vitest';
import { parseTrustedProxy, type TrustedProxy } from '../client-address.ts';
import { classifyAddress, type AddressClass } from './address-class.ts';
import { createAddressPolicy, literalHostRefusal } from './address-policy.ts';

const TABLE: readonly [string, AddressClass][] = [
  // IPv4
  ['8.8.8.8', 'public'],
  ['1.1.1.1', 'public'],
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.15.255.255', 'public'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['172.32.0.0', 'public'],
  ['192.168.1.1', 'private'],
  ['192.169.0.1', 'public'],
  ['169.254.169.254', 'link-local'],
  ['100.63.255.255', 'public'],
  ['100.64.0.1', 'cgnat'],
  ['100.127.255.255', 'cgnat'],
  ['100.128.0.0', 'public'],
  ['224.0.0.1', 'multicast'],
  ['239.255.255.255', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.255', 'broadcast'],
  ['192.0.2.10', 'reserved'],
  ['198.18.0.1', 'reserved'],
  // IPv6
  ['2606:4700:4700::1111', 'public'],
  ['2a00:1450:4001:81c::200e', 'public'],
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['[::1]', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fc00::1', 'private'],
  ['fd12:3456:789a::1', 'private'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['febf::1', 'link-local'],
  ['fec0::1', 'private'],
  ['ff02::1', 'multicast'],
  ['2001:db8::1', 'reserved'],
  ['2001:0:4136:e378::1', 'reserved'],
  // IPv4 inside IPv6
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:169.254.169.254', 'link-local'],
  ['::ffff:100.64.0.1', 'cgnat'],
  ['::ffff:0.0.0.0', 'unspecified'],
  ['::ffff:8.8.8.8', 'public'],
  ['::127.0.0.1', 'loopback'],
  ['::2', 'unspecified'],
  ['64:ff9b::7f00:1', 'loopback'],
  ['64:ff9b::808:808', 'public'],
  ['2002:7f00:1::', 'loopback'],
  ['2002:c0a8:101::1', 'private'],
  ['2002:808:808::1', 'public'],
  // not addresses
  ['localhost', 'invalid'],
  ['example.org', 'invalid'],
  ['1.2.3', 'invalid'],
  ['', 'invalid'],
];

describe('classifyAddress', () => {
  it.each(TABLE)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

function networks(...entries: string[]): TrustedProxy[] {
  return entries.map((entry) => {
    const parsed = parseTrustedProxy(entry);
    if (!parsed) throw new Error(`bad network ${entry}`);
    return parsed;
  });
}

describe('createAddressPolicy', () => {
  it('refuses every class but public when nothing is allowed', () => {
    const policy = createAddressPolicy([]);
    expect(policy.refusal('8.8.8.8')).toBeNull();
    expect(policy.refusal('127.0.0.1')).toBe('loopback');
    expect(policy.refusal('::ffff:127.0.0.1')).toBe('loopback');
    expect(policy.refusal('10.0.0.1')).toBe('private');
    expect(policy.refusal('fd00::1')).toBe('private');
    expect(policy.refusal('nonsense')).toBe('invalid');
  });

  it('lets allowed networks through, IPv4-mapped forms included', () => {
    const policy = createAddressPolicy(networks('127.0.0.0/8', 'fd00::/8'));
    expect(policy.refusal('127.0.0.1')).toBeNull();
    expect(policy.refusal('127.1.2.3')).toBeNull();
    expect(policy.refusal('::ffff:127.0.0.1')).toBeNull();
    expect(policy.refusal('fd00::5')).toBeNull();
    expect(policy.refusal('::1')).toBe('loopback');
    expect(policy.refusal('10.0.0.1')).toBe('private');
    expect(policy.refusal('fc00::1')).toBe('private');
  });

  it('takes an IPv4-mapped network in the list as its IPv4 network', () => {
    const policy = createAddressPolicy(networks('::ffff:10.0.0.0/104'));
    expect(policy.refusal('10.9.9.9')).toBeNull();
    expect(policy.refusal('11.0.0.1')).toBeNull();
    expect(policy.refusal('192.168.0.1')).toBe('private');
  });
});

describe('literalHostRefusal', () => {
  const none = createAddressPolicy([]);
  const loopback = createAddressPolicy(networks('127.0.0.0/8'));

  it.each([
    ['http://127.0.0.1/hook', 'loopback'],
    ['http://2130706433/hook', 'loopback'],
    ['http://0x7f.1/hook', 'loopback'],
    ['http://[::1]:8080/hook', 'loopback'],
    ['http://[::ffff:127.0.0.1]/hook', 'loopback'],
    ['http://[::ffff:a00:1]/hook', 'private'],
    ['http://localhost/hook', 'loopback'],
    ['http://LOCALHOST./hook', 'loopback'],
    ['http://api.localhost/hook', 'loopback'],
    ['http://169.254.169.254/latest/meta-data', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://0.0.0.0/', 'unspecified'],
    ['https://192.168.0.10/', 'private'],
  ])('%s is refused as %s', (url, kind) => {
    expect(literalHostRefusal(new URL(url), none)).toBe(kind);
  });

  it('leaves names to delivery and passes public or allowed literals', () => {
    expect(literalHostRefusal(new URL('https://hooks.example.org/x'), none)).toBeNull();
    expect(literalHostRefusal(new URL('https://8.8.8.8/x'), none)).toBeNull();
    expect(literalHostRefusal(new URL('http://127.0.0.1:9/x'), loopback)).toBeNull();
    expect(literalHostRefusal(new URL('http://localhost:9/x'), loopback)).toBeNull();
  });
});
