import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cookieValues, createOwnerCookies } from './owner-cookie.ts';

const key = randomBytes(32);
const cookies = createOwnerCookies(key);

function valueOf(setCookie: string): string {
  return /^runbox_owner=([^;]+);/.exec(setCookie)?.[1] ?? '';
}

describe('owner cookie', () => {
  it('mints an owner whose signed cookie names it again', () => {
    const minted = cookies.mint({ secure: false });
    expect(minted.owner).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(minted.setCookie).toMatch(
      /^runbox_owner=[A-Za-z0-9_-]{24}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=31536000$/,
    );
    expect(cookies.mint({ secure: true }).setCookie).toMatch(/; Secure$/);
    const value = valueOf(minted.setCookie);
    expect(cookies.ownerOf(`a=b; runbox_owner=${value}; c=d`)).toBe(minted.owner);
    expect(cookies.mint({ secure: false }).owner).not.toBe(minted.owner);
  });

  it('names nobody for a cookie that is unsigned, made up, tampered with or signed by another key', () => {
    const minted = cookies.mint({ secure: false });
    const value = valueOf(minted.setCookie);
    const [owner = '', signature = ''] = value.split('.');
    expect(cookies.ownerOf(undefined)).toBeNull();
    expect(cookies.ownerOf(`runbox_owner=${owner}`)).toBeNull();
    expect(cookies.ownerOf('runbox_owner=short')).toBeNull();
    expect(cookies.ownerOf(`runbox_owner=${'A'.repeat(24)}.${signature}`)).toBeNull();
    // Every single-character change of the signature, the last character's spare bits included.
    for (let i = 0; i < signature.length; i++) {
      for (const replacement of ['A', 'B', 'C', 'D', '_', '-']) {
        if (signature[i] === replacement) continue;
        const tampered = `${signature.slice(0, i)}${replacement}${signature.slice(i + 1)}`;
        expect(cookies.ownerOf(`runbox_owner=${owner}.${tampered}`)).toBeNull();
      }
    }
    const flipped = `${owner.slice(0, -1)}${owner.endsWith('x') ? 'y' : 'x'}`;
    expect(cookies.ownerOf(`runbox_owner=${flipped}.${signature}`)).toBeNull();
    const otherServer = createOwnerCookies(randomBytes(32));
    expect(otherServer.ownerOf(`runbox_owner=${value}`)).toBeNull();
    // The same key (a restart) takes it.
    expect(createOwnerCookies(Buffer.from(key)).ownerOf(`runbox_owner=${value}`)).toBe(
      minted.owner,
    );
  });

  it('takes the signed one when a forged cookie comes beside it', () => {
    const minted = cookies.mint({ secure: false });
    const header = `runbox_owner=${'f'.repeat(24)}.${'x'.repeat(43)}; runbox_owner=${valueOf(minted.setCookie)}`;
    expect(cookies.ownerOf(header)).toBe(minted.owner);
    expect(cookieValues(header, 'runbox_owner')).toHaveLength(2);
  });
});
