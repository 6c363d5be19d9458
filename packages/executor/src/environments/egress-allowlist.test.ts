import { describe, expect, it } from 'vitest';
import {
  allowedOriginOf,
  describeAllowed,
  EgressConfigError,
  isAllowedOrigin,
  parseAuthority,
  parseEgressHosts,
} from './egress-allowlist.ts';

describe('allowedOriginOf', () => {
  it.each([
    ['https://pypi.org/simple', { scheme: 'https', host: 'pypi.org', port: 443 }],
    ['http://127.0.0.1:4873/npm/', { scheme: 'http', host: '127.0.0.1', port: 4873 }],
    ['http://Registry.Example', { scheme: 'http', host: 'registry.example', port: 80 }],
    ['https://registry.example:443/', { scheme: 'https', host: 'registry.example', port: 443 }],
    ['https://[::1]:8443/x', { scheme: 'https', host: '::1', port: 8443 }],
  ])('reads the origin of %s', (url, origin) => {
    expect(allowedOriginOf(url)).toEqual(origin);
  });

  it.each([
    ['ftp://pypi.org/', /scheme ftp: is not http or https/],
    ['file:///etc/passwd', /scheme file:/],
    ['https://user:secret@pypi.org/simple', /user name or password/],
    ['https://token@pypi.org/simple', /user name or password/],
    ['pypi.org', /not a URL/],
    ['http://a:0/', /port 0/],
    ['http://a:70000/', /not a URL/],
  ])('refuses %s, naming the value and what is accepted', (url, problem) => {
    let caught: unknown;
    try {
      allowedOriginOf(url);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EgressConfigError);
    expect((caught as EgressConfigError).message).toMatch(problem);
    expect((caught as EgressConfigError).message).toContain(url);
    expect((caught as EgressConfigError).message).toMatch(/accepted: an http:\/\/ or https:\/\//);
  });
});

describe('parseEgressHosts', () => {
  it('reads bare names as https on 443, a port when given, and http URLs', () => {
    expect(
      parseEgressHosts(
        'files.pythonhosted.org, Registry.Example:8443,http://127.0.0.1:4873,[::1]:9443',
      ),
    ).toEqual([
      { scheme: 'https', host: 'files.pythonhosted.org', port: 443 },
      { scheme: 'https', host: 'registry.example', port: 8443 },
      { scheme: 'http', host: '127.0.0.1', port: 4873 },
      { scheme: 'https', host: '::1', port: 9443 },
    ]);
  });

  it.each(['', '  ', ' , ,'])('reads %j as no host', (value) => {
    expect(parseEgressHosts(value)).toEqual([]);
  });

  it.each([
    ['pypi.org/simple', /is not host or host:port/],
    ['me@pypi.org', /is not host or host:port/],
    ['pypi.org:0', /is not host or host:port/],
    ['pypi.org:99999', /is not host or host:port/],
    ['::1', /is not host or host:port/],
    ['ftp://mirror.example', /scheme ftp:/],
    ['http://me:pw@mirror.example', /user name or password/],
  ])('refuses %j, naming the entry and the accepted forms', (value, problem) => {
    expect(() => parseEgressHosts(`pypi.org, ${value}`)).toThrow(problem);
    expect(() => parseEgressHosts(`pypi.org, ${value}`)).toThrow(`"${value}"`);
    expect(() => parseEgressHosts(value)).toThrow(/accepted: comma-separated host, host:port/);
  });
});

describe('parseAuthority', () => {
  it('reads host:port as sent, only lower-casing the name', () => {
    expect(parseAuthority('PyPI.org:443')).toEqual({ host: 'pypi.org', port: 443 });
    expect(parseAuthority('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(parseAuthority('0x7f.1:80')).toEqual({ host: '0x7f.1', port: 80 });
    expect(parseAuthority('mirror', 80)).toEqual({ host: 'mirror', port: 80 });
  });

  it.each(['pypi.org', 'pypi.org:', 'u@pypi.org:443', 'pypi.org:443/x', '::1:443', 'a:65536'])(
    'refuses %j without a default port',
    (text) => {
      expect(parseAuthority(text)).toBeNull();
    },
  );
});

describe('isAllowedOrigin', () => {
  const allow = parseEgressHosts('pypi.org, http://127.0.0.1:4873');

  it('matches scheme, host (any case) and port exactly', () => {
    expect(isAllowedOrigin(allow, 'https', { host: 'PYPI.org', port: 443 })).toBe(true);
    expect(isAllowedOrigin(allow, 'http', { host: '127.0.0.1', port: 4873 })).toBe(true);
  });

  it.each([
    ['https', 'pypi.org', 80],
    ['http', 'pypi.org', 443],
    ['https', 'evil.pypi.org', 443],
    ['https', 'pypi.org.', 443],
    ['http', 'localhost', 4873],
    ['https', '127.0.0.1', 4873],
  ] as const)('refuses %s %s:%d', (scheme, host, port) => {
    expect(isAllowedOrigin(allow, scheme, { host, port })).toBe(false);
  });

  it('describes the list as a refused client reads it', () => {
    expect(describeAllowed(allow)).toBe('pypi.org:443, http://127.0.0.1:4873');
    expect(describeAllowed(parseEgressHosts('[::1]:9443'))).toBe('[::1]:9443');
    expect(describeAllowed([])).toBe('none');
  });
});
