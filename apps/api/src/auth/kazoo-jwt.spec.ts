// The key files and the JWT sniffing of KazooJwtVerifier (the verification itself is an e2e:
// test/api/kazoo-jwt.e2e-spec.ts).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { looksLikeJwt, parseKeyFiles, publicKeyOf } from './kazoo-jwt';

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
