// Kazoo's own auth tokens (from crossbar's PUT /v2/user_auth or /v2/api_auth), accepted as they
// are: RS256/RS384/RS512 JWTs signed by kazoo_auth (kz_auth_jwt:encode/1, Kazoo 4.3), header
// {"alg","typ":"JWT","kid"}, claims account_id, owner_id, method, exp, iss "kazoo", identity_sig.
// Verified with jose against the system's public key, found by `kid` among the PEM files named in
// KAZOO_JWT_PUBLIC_KEYS or fetched from KAZOO_JWT_KEYS_URL (crossbar's GET /v2/auth/keys/{kid},
// cb_auth:load_public_key/2) and cached. A verified token is remembered (not RSA-verified again)
// for AUTH_CACHE_MS at most and never past its exp: no longer than a revoked token of ours works.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { createPublicKey, KeyObject } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { LRUCache } from 'lru-cache';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ApiError } from '../common/api-error';
import { AUTH_CACHE_MS } from './auth-cache';

/** kz_auth_jwt's ?ALGORITHMS: anything else (none, HS256, ES256…) is refused before any key. */
export const KAZOO_JWT_ALGORITHMS = ['RS256', 'RS384', 'RS512'];
const ACCOUNT_ID = /^[0-9a-f]{32}$/;
// A kid that Kazoo does not know is asked again only after this long (no fetch per request).
const NEGATIVE_CACHE_MS = 30_000;
const FETCH_TIMEOUT_MS = 3_000;
const VERIFIED_MAX = 10_000;

export interface KazooClaims {
  accountId: string;
  ownerId?: string;
  expiresAt: number;
}

/** `kid=path` or a path whose file name (without .pem) is the kid; comma-separated. */
export function parseKeyFiles(spec: string): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = entry.indexOf('=');
    const path = eq < 0 ? entry : entry.slice(eq + 1);
    const kid = eq < 0 ? basename(path).replace(/\.pem$/i, '') : entry.slice(0, eq);
    keys.set(kid, publicKeyOf(readFileSync(path, 'utf8')));
  }
  return keys;
}

/** A public key from PEM: PKCS#1 "RSA PUBLIC KEY" (what cb_auth serves), SPKI, a certificate or a private key. */
export function publicKeyOf(pem: string): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'rsa') throw new Error('not an RSA key');
  return key;
}

/** True when the token is shaped as a JWT (three parts, a JSON header), i.e. not one of ours. */
export function looksLikeJwt(token: string): boolean {
  if (!/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token)) return false;
  try {
    decodeProtectedHeader(token);
    return true;
  } catch {
    return false;
  }
}

/** How long a token verified at `now` may be trusted without verifying it again (0: not at all). */
export function verifiedTtlMs(expiresAt: number, now: number): number {
  return Math.max(0, Math.min(AUTH_CACHE_MS, expiresAt - now));
}

@Injectable()
export class KazooJwtVerifier {
  private readonly logger = new Logger(KazooJwtVerifier.name);
  private readonly files: Map<string, KeyObject>;
  private readonly fetched = new Map<string, { key: KeyObject | null; until: number }>();
  private readonly inflight = new Map<string, Promise<KeyObject | null>>();
  /** Verified tokens by the token itself (bounded: a flood of valid tokens evicts the oldest). */
  private readonly verified = new LRUCache<string, KazooClaims>({ max: VERIFIED_MAX });

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.files = config.KAZOO_JWT_PUBLIC_KEYS
      ? parseKeyFiles(config.KAZOO_JWT_PUBLIC_KEYS)
      : new Map();
  }

  get enabled(): boolean {
    return this.files.size > 0 || this.config.KAZOO_JWT_KEYS_URL !== '';
  }

  /** The token's claims, or 401 (ApiError unauthenticated). */
  async verify(token: string): Promise<KazooClaims> {
    const hit = this.verified.get(token);
    if (hit && hit.expiresAt > Date.now()) return hit;
    const claims = await this.verifySignature(token);
    const ttl = verifiedTtlMs(claims.expiresAt, Date.now());
    if (ttl > 0) this.verified.set(token, claims, { ttl });
    return claims;
  }

  private async verifySignature(token: string): Promise<KazooClaims> {
    try {
      const { payload } = await jwtVerify(token, (header) => this.keyFor(header.kid), {
        algorithms: KAZOO_JWT_ALGORITHMS,
        requiredClaims: ['exp'],
        issuer: this.config.KAZOO_JWT_ISSUER || undefined,
      });
      const accountId = payload.account_id;
      if (typeof accountId !== 'string' || !ACCOUNT_ID.test(accountId))
        throw new Error('no account_id claim');
      const ownerId = typeof payload.owner_id === 'string' ? payload.owner_id : undefined;
      return { accountId, ownerId, expiresAt: payload.exp! * 1000 };
    } catch (e) {
      const why = e instanceof joseErrors.JOSEError ? e.code : (e as Error).message;
      this.logger.debug(`Kazoo token refused: ${why}`);
      throw ApiError.unauthenticated();
    }
  }

  private async keyFor(kid: string | undefined): Promise<KeyObject> {
    if (!kid) throw new Error('no kid: cannot tell which key signed the token');
    const key = this.files.get(kid) ?? (await this.fetchKey(kid));
    if (!key) throw new Error(`unknown key ${kid}`);
    return key;
  }

  private async fetchKey(kid: string): Promise<KeyObject | null> {
    const template = this.config.KAZOO_JWT_KEYS_URL;
    if (!template || !/^[\w-]{1,128}$/.test(kid)) return null;
    const hit = this.fetched.get(kid);
    if (hit && hit.until > Date.now()) return hit.key;
    let pending = this.inflight.get(kid);
    if (!pending) {
      pending = this.download(template.replace('{kid}', encodeURIComponent(kid)), kid).finally(() =>
        this.inflight.delete(kid),
      );
      this.inflight.set(kid, pending);
    }
    return pending;
  }

  private async download(url: string, kid: string): Promise<KeyObject | null> {
    let key: KeyObject | null = null;
    try {
      const headers: Record<string, string> = { accept: 'application/x-pem-file' };
      if (this.config.KAZOO_JWT_KEYS_AUTH_TOKEN)
        headers['x-auth-token'] = this.config.KAZOO_JWT_KEYS_AUTH_TOKEN;
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      const text = await res.text();
      if (res.ok) {
        // cb_auth answers the PEM itself, or {"data":{"public_key_pem":…}} when JSON was asked for.
        const pem = text.trimStart().startsWith('{')
          ? (JSON.parse(text) as { data?: { public_key_pem?: string } }).data?.public_key_pem
          : text;
        if (pem) key = publicKeyOf(pem);
      } else {
        this.logger.warn(`public key ${kid}: ${url} answered ${res.status}`);
      }
    } catch (e) {
      this.logger.warn(`public key ${kid}: ${url} failed: ${(e as Error).message}`);
    }
    this.fetched.set(kid, {
      key,
      until: Date.now() + (key ? this.config.KAZOO_JWT_KEY_CACHE_S * 1000 : NEGATIVE_CACHE_MS),
    });
    return key;
  }
}
