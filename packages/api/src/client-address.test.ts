import { describe, expect, it } from 'vitest';
import { addressKey, createClientAddressResolver, parseTrustedProxy } from './client-address.ts';
import { loadConfig } from './config.ts';

function proxies(...entries: string[]) {
  return entries.map((entry) => {
    const proxy = parseTrustedProxy(entry);
    if (!proxy) throw new Error(`bad entry ${entry}`);
    return proxy;
  });
}

describe('client address', () => {
  it('parses proxy addresses and networks, and refuses anything else', () => {
    expect(parseTrustedProxy('10.0.0.0/8')).toEqual({
      network: '10.0.0.0',
      prefix: 8,
      family: 'ipv4',
    });
    expect(parseTrustedProxy(' 127.0.0.1 ')).toEqual({
      network: '127.0.0.1',
      prefix: 32,
      family: 'ipv4',
    });
    expect(parseTrustedProxy('fd00::/8')).toMatchObject({ prefix: 8, family: 'ipv6' });
    for (const bad of ['', 'localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '1.2.3.4/x'])
      expect(parseTrustedProxy(bad)).toBeNull();
  });

  it('ignores X-Forwarded-For unless the peer is a trusted proxy', () => {
    const none = createClientAddressResolver([]);
    expect(none({ remoteAddress: '127.0.0.1', forwardedFor: '198.51.100.1' })).toBe('127.0.0.1');
    expect(none({ remoteAddress: '::ffff:192.0.2.4', forwardedFor: undefined })).toBe('192.0.2.4');
    expect(none({ remoteAddress: undefined, forwardedFor: undefined })).toBe('unknown');
    const resolve = createClientAddressResolver(proxies('127.0.0.1'));
    expect(resolve({ remoteAddress: '192.0.2.9', forwardedFor: '198.51.100.1' })).toBe('192.0.2.9');
    expect(resolve({ remoteAddress: '127.0.0.1', forwardedFor: '198.51.100.1' })).toBe(
      '198.51.100.1',
    );
  });

  it('walks the chain from the right, stopping at the first address that is not a trusted proxy', () => {
    const resolve = createClientAddressResolver(proxies('127.0.0.1', '10.0.0.0/8'));
    // The client wrote the leftmost entry itself: it is not believed past the first untrusted hop.
    expect(
      resolve({ remoteAddress: '127.0.0.1', forwardedFor: '6.6.6.6, 198.51.100.1, 10.1.2.3' }),
    ).toBe('198.51.100.1');
    expect(
      resolve({ remoteAddress: '127.0.0.1', forwardedFor: ['6.6.6.6', '198.51.100.1:4711'] }),
    ).toBe('198.51.100.1');
    expect(resolve({ remoteAddress: '127.0.0.1', forwardedFor: '[2001:db8::1]:443' })).toBe(
      '2001:db8::1',
    );
    // Only proxies all the way: the leftmost is the client.
    expect(resolve({ remoteAddress: '127.0.0.1', forwardedFor: '10.0.0.1, 10.0.0.2' })).toBe(
      '10.0.0.1',
    );
    // Garbage from a trusted proxy: the proxy stands for the client.
    expect(resolve({ remoteAddress: '127.0.0.1', forwardedFor: 'unknown, 10.0.0.2' })).toBe(
      '10.0.0.2',
    );
    expect(resolve({ remoteAddress: '127.0.0.1', forwardedFor: '' })).toBe('127.0.0.1');
  });

  it('counts an IPv6 client by its /64', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2::ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(addressKey('unknown')).toBe('unknown');
  });

  it('RUNBOX_TRUST_PROXY is empty by default, and a bad entry stops the start naming it', () => {
    expect(loadConfig({}, '/srv').trustProxy).toEqual([]);
    expect(loadConfig({ RUNBOX_TRUST_PROXY: '127.0.0.1, ::1' }, '/srv').trustProxy).toHaveLength(2);
    expect(() => loadConfig({ RUNBOX_TRUST_PROXY: '127.0.0.1,localhost' }, '/srv')).toThrow(
      'environment variable RUNBOX_TRUST_PROXY: "localhost" is not an IP address or a CIDR network (e.g. 10.0.0.0/8)',
    );
  });
});
