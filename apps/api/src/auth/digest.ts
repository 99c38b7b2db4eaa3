// HTTP Digest (RFC 7616) server side, pure: parsing an Authorization: Digest header, signed
// nonces that carry their issue time (so any API instance holding the key can check them and
// tell an expired one), challenges, and the expected `response` for qop=auth.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { digestHash, type DigestAlgorithm } from '@app/persistence';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

export interface DigestCredentials {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm: DigestAlgorithm;
  qop: 'auth';
  nc: number;
  /** nc exactly as sent (8 hex digits): the hash covers the text. */
  ncText: string;
  cnonce: string;
  opaque?: string;
}

const PARAM = /\s*([A-Za-z0-9_*-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(,|$)/y;

/** The auth-params of a challenge or credentials (after the scheme), or undefined if malformed. */
export function parseAuthParams(text: string): Map<string, string> | undefined {
  const params = new Map<string, string>();
  PARAM.lastIndex = 0;
  while (PARAM.lastIndex < text.length) {
    const start = PARAM.lastIndex;
    const m = PARAM.exec(text);
    if (!m || PARAM.lastIndex === start) return undefined;
    const name = m[1].toLowerCase();
    if (params.has(name)) return undefined;
    params.set(name, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]);
    if (m[4] === '') break;
  }
  return params;
}

/** Why Digest credentials were refused, or the credentials. */
export type DigestParse = { ok: true; credentials: DigestCredentials } | { ok: false; why: string };

/** Parses `Digest …` credentials; only qop=auth with MD5 or SHA-256 (no -sess, no userhash). */
export function parseDigestAuthorization(header: string): DigestParse {
  const m = /^digest\s+(.*)$/is.exec(header);
  if (!m) return { ok: false, why: 'not Digest' };
  const p = parseAuthParams(m[1]);
  if (!p) return { ok: false, why: 'malformed Digest parameters' };
  for (const name of ['username', 'realm', 'nonce', 'uri', 'response', 'qop', 'nc', 'cnonce'])
    if (!p.get(name)) return { ok: false, why: `Digest parameter ${name} missing` };
  const algorithm = (p.get('algorithm') ?? 'MD5').toUpperCase();
  if (algorithm !== 'MD5' && algorithm !== 'SHA-256')
    return { ok: false, why: `unsupported algorithm ${algorithm}` };
  if (p.get('qop') !== 'auth') return { ok: false, why: 'qop must be auth' };
  if (p.get('userhash') === 'true') return { ok: false, why: 'userhash is not supported' };
  const ncText = p.get('nc')!;
  if (!/^[0-9a-fA-F]{8}$/.test(ncText)) return { ok: false, why: 'nc must be 8 hex digits' };
  return {
    ok: true,
    credentials: {
      username: p.get('username')!,
      realm: p.get('realm')!,
      nonce: p.get('nonce')!,
      uri: p.get('uri')!,
      response: p.get('response')!.toLowerCase(),
      algorithm,
      qop: 'auth',
      nc: parseInt(ncText, 16),
      ncText,
      cnonce: p.get('cnonce')!,
      opaque: p.get('opaque'),
    },
  };
}

/** The `response` a client that knows the password sends (RFC 7616 §3.4.1, qop=auth). */
export function expectedResponse(c: DigestCredentials, ha1Hex: string, method: string): string {
  const ha2 = digestHash(c.algorithm, `${method}:${c.uri}`);
  return digestHash(c.algorithm, `${ha1Hex}:${c.nonce}:${c.ncText}:${c.cnonce}:${c.qop}:${ha2}`);
}

export function sameHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

const MAC_BYTES = 16;

/** A nonce: issue time (ms), 12 random bytes and a MAC over both, base64url (48 characters). */
export function issueNonce(secret: Buffer, nowMs = Date.now()): string {
  const body = Buffer.alloc(20);
  body.writeBigUInt64BE(BigInt(nowMs), 0);
  randomBytes(12).copy(body, 8);
  return Buffer.concat([body, mac(secret, body)]).toString('base64url');
}

/** The issue time of a nonce this key signed, or undefined for anything else. */
export function nonceIssuedAt(secret: Buffer, nonce: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{48}$/.test(nonce)) return undefined;
  const raw = Buffer.from(nonce, 'base64url');
  const body = raw.subarray(0, 20);
  if (!timingSafeEqual(raw.subarray(20), mac(secret, body))) return undefined;
  return Number(body.readBigUInt64BE(0));
}

function mac(secret: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', secret).update(body).digest().subarray(0, MAC_BYTES);
}

/** One `WWW-Authenticate` value per algorithm, the preferred (SHA-256) first (RFC 7616 §3.7). */
export function digestChallenges(realm: string, nonce: string, stale: boolean): string[] {
  return DIGEST_ALGORITHMS.map(
    (algorithm) =>
      `Digest realm="${realm}", qop="auth", algorithm=${algorithm}, nonce="${nonce}"` +
      (stale ? ', stale=true' : ''),
  );
}
