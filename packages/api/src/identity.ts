import { randomBytes, timingSafeEqual } from 'node:crypto';

export const OWNER_COOKIE = 'runbox_owner';
const OWNER_ID = /^[A-Za-z0-9_-]{22,64}$/;

/** Who a request is: an owner (anonymous browser or API key) and whether it holds the admin token. */
export interface Identity {
  owner: string | null;
  isAdmin: boolean;
  /** Key for per-client caps (sockets): the owner, else the remote address. */
  clientKey: string;
}

export function newOwnerId(): string {
  return randomBytes(18).toString('base64url');
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at <= 0) continue;
    cookies.set(part.slice(0, at).trim(), part.slice(at + 1).trim());
  }
  return cookies;
}

export function ownerFromCookie(header: string | undefined): string | null {
  const value = parseCookies(header).get(OWNER_COOKIE);
  return value && OWNER_ID.test(value) ? value : null;
}

export function ownerCookie(owner: string, secure: boolean): string {
  // A year; httpOnly so page scripts cannot read it, SameSite=Lax so other sites cannot use it.
  return `${OWNER_COOKIE}=${owner}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000${secure ? '; Secure' : ''}`;
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
  remoteAddress?: string | undefined;
}

/**
 * The identity of a request. An API key (`Authorization: Bearer <key>`) makes the owner `key:<name>`;
 * the admin token (header `x-runbox-admin-token`, or as the bearer) makes an admin, whose own runs
 * belong to `admin`; otherwise the browser's anonymous cookie names the owner.
 */
export function identify(
  credentials: Credentials,
  secrets: { adminToken: string; apiKeys: ReadonlyMap<string, string> },
): Identity {
  const bearer = credentials.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
  const adminCandidate = credentials.adminTokenHeader ?? bearer;
  const isAdmin = adminCandidate !== undefined && sameSecret(adminCandidate, secrets.adminToken);
  let owner: string | null = null;
  if (bearer !== undefined) {
    for (const [key, name] of secrets.apiKeys) {
      if (sameSecret(bearer, key)) owner = `key:${name}`;
    }
  }
  owner ??= ownerFromCookie(credentials.cookieHeader);
  if (owner === null && isAdmin) owner = 'admin';
  return { owner, isAdmin, clientKey: owner ?? `addr:${credentials.remoteAddress ?? 'unknown'}` };
}
