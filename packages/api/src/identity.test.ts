import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { identify, type IdentitySecrets } from './identity.ts';
import { createOwnerCookies } from './owner-cookie.ts';

const ownerCookies = createOwnerCookies(randomBytes(32));
const secrets: IdentitySecrets = {
  adminToken: 'admin-token-0123456789abcdef',
  apiKeys: new Map([['k'.repeat(30), 'ci-bot']]),
  ownerCookies,
  anonymous: true,
};
const address = '203.0.113.7';

function cookieOf(setCookie: string): string {
  return setCookie.split(';')[0] ?? '';
}

describe('identity', () => {
  it('knows an API key, the admin token, and neither', () => {
    expect(identify({ authorization: `Bearer ${'k'.repeat(30)}`, address }, secrets)).toEqual({
      owner: 'key:ci-bot',
      isAdmin: false,
      anonymous: false,
      address,
      clientKey: 'key:ci-bot',
    });
    expect(identify({ adminTokenHeader: secrets.adminToken, address }, secrets)).toMatchObject({
      owner: 'admin',
      isAdmin: true,
      anonymous: false,
    });
    expect(
      identify({ authorization: `Bearer ${secrets.adminToken}`, address }, secrets),
    ).toMatchObject({ isAdmin: true });
    expect(identify({ adminTokenHeader: 'wrong', address }, secrets)).toEqual({
      owner: null,
      isAdmin: false,
      anonymous: false,
      address,
      clientKey: `addr:${address}`,
    });
  });

  it('takes a cookie the server signed as an anonymous owner, counted by its address', () => {
    const minted = ownerCookies.mint({ secure: false });
    const identity = identify({ cookieHeader: cookieOf(minted.setCookie), address }, secrets);
    expect(identity).toEqual({
      owner: minted.owner,
      isAdmin: false,
      anonymous: true,
      address,
      clientKey: `addr:${address}`,
    });
  });

  it('takes no owner from a cookie it did not sign, or from any cookie when anonymous use is off', () => {
    const unsigned = `runbox_owner=${'a'.repeat(24)}`;
    expect(identify({ cookieHeader: unsigned, address }, secrets).owner).toBeNull();
    const signed = cookieOf(ownerCookies.mint({ secure: false }).setCookie);
    const off = { ...secrets, anonymous: false };
    expect(identify({ cookieHeader: signed, address }, off)).toMatchObject({
      owner: null,
      anonymous: false,
    });
    // An API key still works with anonymous use off.
    expect(identify({ authorization: `Bearer ${'k'.repeat(30)}`, address }, off).owner).toBe(
      'key:ci-bot',
    );
  });

  it('an API key wins over a cookie; the admin with a cookie owns the cookie’s runs', () => {
    const signed = ownerCookies.mint({ secure: false });
    const cookieHeader = cookieOf(signed.setCookie);
    expect(
      identify({ cookieHeader, authorization: `Bearer ${'k'.repeat(30)}`, address }, secrets),
    ).toMatchObject({ owner: 'key:ci-bot', anonymous: false });
    expect(
      identify({ cookieHeader, adminTokenHeader: secrets.adminToken, address }, secrets),
    ).toMatchObject({ owner: signed.owner, isAdmin: true, anonymous: true });
  });
});
