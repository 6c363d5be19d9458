import { timingSafeEqual } from 'node:crypto';
import type { OwnerCookies } from './owner-cookie.ts';

/** Who a request is: an owner (anonymous browser or API key) and whether it holds the admin token. */
export interface Identity {
  owner: string | null;
  isAdmin: boolean;
  /**
   * True when the owner is an anonymous browser's (its signed cookie), not an API key's or the
   * admin's: a client may have as many of those as it likes, so their limits count per address.
   */
  anonymous: boolean;
  /** The client's address as limits count it (an IPv4 address, an IPv6 /64; see client-address.ts). */
  address: string;
  /** Key for per-client caps (sockets): an API key's or the admin's owner, else the address. */
  clientKey: string;
}

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface Credentials {
  cookieHeader?: string | undefined;
  authorization?: string | undefined;
  adminTokenHeader?: string | undefined;
  /** The client address (a trusted proxy's forwarded one when configured), as addressKey gives it. */
  address: string;
}

export interface IdentitySecrets {
  adminToken: string;
  apiKeys: ReadonlyMap<string, string>;
  ownerCookies: OwnerCookies;
  /** False (RUNBOX_ANONYMOUS=off): the owner cookie is not looked at; only keys and the admin own things. */
  anonymous: boolean;
}

/**
 * The identity of a request. An API key (`Authorization: Bearer <key>`) makes the owner `key:<name>`;
 * the admin token (header `x-runbox-admin-token`, or as the bearer) makes an admin, whose own runs
 * belong to `admin`; otherwise the browser's anonymous cookie names the owner, if the server signed
 * it and anonymous use is on.
 */
export function identify(credentials: Credentials, secrets: IdentitySecrets): Identity {
  const bearer = credentials.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const adminCandidate = credentials.adminTokenHeader ?? bearer;
  const isAdmin = adminCandidate !== undefined && sameSecret(adminCandidate, secrets.adminToken);
  let owner: string | null = null;
  if (bearer !== undefined) {
    for (const [key, name] of secrets.apiKeys) {
      if (sameSecret(bearer, key)) owner = `key:${name}`;
    }
  }
  const address = credentials.address;
  if (owner === null && secrets.anonymous) {
    const anonymousOwner = secrets.ownerCookies.ownerOf(credentials.cookieHeader);
    if (anonymousOwner !== null) return anonymousIdentity(anonymousOwner, isAdmin, address);
  }
  if (owner === null && isAdmin) owner = 'admin';
  return { owner, isAdmin, anonymous: false, address, clientKey: owner ?? `addr:${address}` };
}

/** An anonymous owner's identity: counted by its address wherever clients are counted. */
export function anonymousIdentity(owner: string, isAdmin: boolean, address: string): Identity {
  return { owner, isAdmin, anonymous: true, address, clientKey: `addr:${address}` };
}
