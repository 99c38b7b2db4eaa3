// Kazoo's own tokens, built here byte for byte as kazoo_auth builds them (2600hz/kazoo 4.3,
// core/kazoo_auth/src/kz_auth_jwt.erl: add_header/1 encodes [{alg},{typ,"JWT"},{kid}],
// add_payload/1 the claims, sign/1 public_key:sign(Header.Claims, Digest, Key), all kz_base64url
// without padding), with the claims crossbar_auth:create_auth_token/3 and
// kz_auth:include_claims/1 put in (account_id, owner_id, method, exp, identity_sig, iss "kazoo").
import { createSign, KeyObject, randomBytes } from 'node:crypto';

export const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');
export const JWT_DIGEST = { RS256: 'sha256', RS384: 'sha384', RS512: 'sha512' } as const;

/** kz_auth_jwt:encode/1, step by step. */
export function kazooJwt(
  key: KeyObject,
  kid: string,
  claims: Record<string, unknown>,
  alg: keyof typeof JWT_DIGEST = 'RS256',
): string {
  const header = b64url(JSON.stringify({ alg, typ: 'JWT', kid }));
  const payload = b64url(JSON.stringify(claims));
  const signature = createSign(JWT_DIGEST[alg]).update(`${header}.${payload}`).sign(key);
  return `${header}.${payload}.${b64url(signature)}`;
}

export const nowS = () => Math.floor(Date.now() / 1000);

/** The claims of a user_auth token (crossbar_auth:create_auth_token/3 + kz_auth:include_claims/1). */
export const claimsFor = (accountId: string, extra: Record<string, unknown> = {}) => ({
  iss: 'kazoo',
  identity_sig: b64url(randomBytes(32)),
  account_id: accountId,
  owner_id: randomBytes(16).toString('hex'),
  method: 'cb_user_auth',
  exp: nowS() + 3600,
  ...extra,
});
