// The key files, the JWT sniffing and the verified-token cache of KazooJwtVerifier (the
// verification itself is an e2e: test/api/kazoo-jwt.e2e-spec.ts).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import type { AppConfig } from '@app/config';
import {
  KazooJwtVerifier,
  looksLikeJwt,
  parseKeyFiles,
  publicKeyOf,
  verifiedTtlMs,
} from './kazoo-jwt';
import { AUTH_CACHE_MS } from './auth-cache';

const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });

it('reads PKCS#1 (as cb_auth serves it), SPKI and private-key PEMs; the kid is the file name or kid=', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kazoo-jwt-spec-'));
  try {
    writeFileSync(join(dir, 'abc.pem'), rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }));
    writeFileSync(join(dir, 'spki.pem'), rsa.publicKey.export({ type: 'spki', format: 'pem' }));
    writeFileSync(join(dir, 'priv.pem'), rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }));
    const keys = parseKeyFiles(
      `${join(dir, 'abc.pem')}, other=${join(dir, 'spki.pem')},${join(dir, 'priv.pem')}`,
    );
    expect([...keys.keys()].sort()).toEqual(['abc', 'other', 'priv']);
    for (const k of keys.values()) expect(k.type).toBe('public');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('refuses a key that is not RSA', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  expect(() => publicKeyOf(ec.publicKey.export({ type: 'spki', format: 'pem' }) as string)).toThrow(
    /RSA/,
  );
});

it('tells a JWT from one of our opaque tokens', () => {
  const header = Buffer.from('{"alg":"RS256","typ":"JWT"}').toString('base64url');
  expect(looksLikeJwt(`${header}.e30.c2ln`)).toBe(true);
  expect(looksLikeJwt('Ab_cd-EF0123456789abcdefABCDEF0123456789abcd')).toBe(false);
  expect(looksLikeJwt('a.b.c')).toBe(false);
  expect(looksLikeJwt(`${header}.e30`)).toBe(false);
});

describe('verified-token cache', () => {
  // jose signs RS256 with 2048-bit keys at least.
  const signer = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const dir = mkdtempSync(join(tmpdir(), 'kazoo-jwt-cache-'));
  const keyFile = join(dir, 'k1.pem');
  writeFileSync(keyFile, signer.publicKey.export({ type: 'pkcs1', format: 'pem' }));
  const verifier = new KazooJwtVerifier({
    KAZOO_JWT_PUBLIC_KEYS: keyFile,
    KAZOO_JWT_KEYS_URL: '',
    KAZOO_JWT_ISSUER: 'kazoo',
  } as AppConfig);
  // Each signature check asks for the key once: the count of RSA verifications.
  const keyLookups = jest.spyOn(
    KazooJwtVerifier.prototype as unknown as { keyFor: () => Promise<unknown> },
    'keyFor',
  );
  const sign = (expS: number, accountId = '0123456789abcdef0123456789abcdef') =>
    new SignJWT({ account_id: accountId })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: 'k1' })
      .setIssuer('kazoo')
      .setExpirationTime(expS)
      .sign(signer.privateKey);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  beforeEach(() => keyLookups.mockClear());

  it('verifies a token once, then answers from the cache', async () => {
    const token = await sign(Math.floor(Date.now() / 1000) + 3600);
    const first = await verifier.verify(token);
    expect(await verifier.verify(token)).toEqual(first);
    expect(keyLookups).toHaveBeenCalledTimes(1);
  });

  it('does not remember a refused token', async () => {
    const token = await sign(Math.floor(Date.now() / 1000) + 3600, 'not-an-account');
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'unauthenticated' });
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'unauthenticated' });
    expect(keyLookups).toHaveBeenCalledTimes(2);
  });

  it('never answers from the cache past the token exp', async () => {
    const expS = Math.floor(Date.now() / 1000) + 1;
    const token = await sign(expS);
    await verifier.verify(token);
    const deadline = expS * 1000 + 5_000;
    while (Date.now() <= expS * 1000 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  it('keeps an entry for the auth cache time at most (as long as a revoked token of ours works)', () => {
    const now = 1_000_000;
    expect(verifiedTtlMs(now + 3_600_000, now)).toBe(AUTH_CACHE_MS);
    expect(verifiedTtlMs(now + 1_200, now)).toBe(1_200);
    expect(verifiedTtlMs(now - 1, now)).toBe(0);
  });
});
