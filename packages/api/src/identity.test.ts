import { describe, expect, it } from 'vitest';
import { identify, newOwnerId, ownerCookie, ownerFromCookie } from './identity.ts';

const secrets = {
  adminToken: 'admin-token-0123456789abcdef',
  apiKeys: new Map([['k'.repeat(30), 'ci-bot']]),
};

describe('identity', () => {
  it('reads a well-formed owner cookie and ignores a forged short one', () => {
    const owner = newOwnerId();
    expect(ownerFromCookie(`a=b; runbox_owner=${owner}; c=d`)).toBe(owner);
    expect(ownerFromCookie('runbox_owner=short')).toBeNull();
    expect(ownerFromCookie('runbox_owner=../../etc/passwd-aaaaaaaaaaaaaaaaaaaaaa')).toBeNull();
    expect(ownerCookie(owner, false)).toMatch(/HttpOnly; SameSite=Lax/);
  });

  it('knows an API key, the admin token, and neither', () => {
    expect(identify({ authorization: `Bearer ${'k'.repeat(30)}` }, secrets)).toMatchObject({
      owner: 'key:ci-bot',
      isAdmin: false,
    });
    expect(identify({ adminTokenHeader: secrets.adminToken }, secrets)).toMatchObject({
      owner: 'admin',
      isAdmin: true,
    });
    expect(identify({ authorization: `Bearer ${secrets.adminToken}` }, secrets)).toMatchObject({
      isAdmin: true,
    });
    expect(identify({ adminTokenHeader: 'wrong' }, secrets)).toMatchObject({
      owner: null,
      isAdmin: false,
    });
    expect(identify({ remoteAddress: '127.0.0.1' }, secrets).clientKey).toBe('addr:127.0.0.1');
  });
});
