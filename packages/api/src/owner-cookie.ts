import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const OWNER_COOKIE = 'runbox_owner';

/** What an owner id may look like (the server mints 24 characters: 18 random bytes, base64url). */
const OWNER_ID = /^[A-Za-z0-9_-]{22,64}$/;
/** An HMAC-SHA256, base64url without padding. */
const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;
/** Keeps these signatures apart from anything else the same key might ever sign. */
const PURPOSE = 'runbox-owner-cookie-v1:';

/**
 * The anonymous owner cookie, `runbox_owner=<owner id>.<signature>`: the server signs the id with a
 * key of its own, so a client can keep the owner it was given but cannot make one up. A cookie
 * without the server's signature names nobody.
 */
export interface OwnerCookies {
  /**
   * The owner a Cookie header names with a valid signature; null for no cookie, or one that is
   * unsigned, forged or tampered with (the caller then mints a new owner).
   */
  ownerOf(cookieHeader: string | undefined): string | null;
  /** A new owner and the Set-Cookie value that hands it to the browser. */
  mint(options: { secure: boolean }): { owner: string; setCookie: string };
}

/** Every value of the named cookie in a Cookie header, in order. */
export function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = [];
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    if (part.slice(0, at).trim() === name) values.push(part.slice(at + 1).trim());
  }
  return values;
}

export function newOwnerId(): string {
  return randomBytes(18).toString('base64url');
}

export function createOwnerCookies(key: Buffer): OwnerCookies {
  const sign = (owner: string): string =>
    createHmac('sha256', key).update(PURPOSE).update(owner).digest('base64url');

  const verify = (value: string): string | null => {
    const dot = value.lastIndexOf('.');
    if (dot < 0) return null;
    const owner = value.slice(0, dot);
    const signature = value.slice(dot + 1);
    if (!OWNER_ID.test(owner) || !SIGNATURE.test(signature)) return null;
    // Compared as text, not decoded: the last character of 43 carries 2 spare bits, so decoded
    // bytes would take four spellings of one signature. Both are 43 bytes; the comparison takes
    // the same time wherever they differ.
    return timingSafeEqual(Buffer.from(signature), Buffer.from(sign(owner))) ? owner : null;
  };

  return {
    ownerOf(cookieHeader) {
      // A browser may send a stale cookie beside the good one (another path or domain): any
      // one the server signed will do.
      for (const value of cookieValues(cookieHeader, OWNER_COOKIE)) {
        const owner = verify(value);
        if (owner !== null) return owner;
      }
      return null;
    },
    mint({ secure }) {
      const owner = newOwnerId();
      const value = `${owner}.${sign(owner)}`;
      // A year; httpOnly so page scripts cannot read it, SameSite=Lax so other sites cannot use it.
      const setCookie = `${OWNER_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000${secure ? '; Secure' : ''}`;
      return { owner, setCookie };
    },
  };
}
