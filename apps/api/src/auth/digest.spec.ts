// HTTP Digest pieces against RFC 7616's own example (§3.9.1), nonces, and header parsing.
import { digestHa1, hashPassword, verifyPassword } from '@app/persistence';
import {
  digestChallenges,
  expectedResponse,
  issueNonce,
  nonceIssuedAt,
  parseAuthParams,
  parseDigestAuthorization,
} from './digest';

// RFC 7616 §3.9.1: user Mufasa, password "Circle of Life", realm http-auth@example.org.
const RFC_EXAMPLE = (algorithm: string, response: string) =>
  `Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", ` +
  `algorithm=${algorithm}, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, ` +
  `cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="${response}", ` +
  `opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"`;

describe('RFC 7616 §3.9.1 example', () => {
  it.each([
    ['MD5', '8ca523f5e9506fed4657c9700eebdbec'],
    ['SHA-256', '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1'],
  ] as const)('computes the %s response of the RFC', (algorithm, response) => {
    const parsed = parseDigestAuthorization(RFC_EXAMPLE(algorithm, response));
    if (!parsed.ok) throw new Error(parsed.why);
    expect(parsed.credentials).toMatchObject({ username: 'Mufasa', nc: 1, algorithm });
    const ha1 = digestHa1(algorithm, 'Mufasa', 'http-auth@example.org', 'Circle of Life');
    expect(expectedResponse(parsed.credentials, ha1.toString('hex'), 'GET')).toBe(response);
  });
});

describe('parseDigestAuthorization', () => {
  it('defaults to MD5 and unescapes quoted strings', () => {
    const p = parseDigestAuthorization(
      'digest username="a\\"b", realm="r", nonce="n", uri="/x?y=1,2", response="AB", qop=auth, nc=0000000a, cnonce="c"',
    );
    expect(p).toEqual({
      ok: true,
      credentials: expect.objectContaining({
        username: 'a"b',
        uri: '/x?y=1,2',
        algorithm: 'MD5',
        nc: 10,
        ncText: '0000000a',
        response: 'ab',
      }),
    });
  });

  it.each([
    ['Basic abc', 'not Digest'],
    ['Digest username="a", realm="r"', 'Digest parameter nonce missing'],
    [
      'Digest username="a", realm="r", nonce="n", uri="/", response="x", qop=auth-int, nc=00000001, cnonce="c"',
      'qop must be auth',
    ],
    [
      'Digest username="a", realm="r", nonce="n", uri="/", response="x", qop=auth, nc=1, cnonce="c"',
      'nc must be 8 hex digits',
    ],
    [
      'Digest username="a", realm="r", nonce="n", uri="/", response="x", qop=auth, nc=00000001, cnonce="c", algorithm=MD5-sess',
      'unsupported algorithm MD5-SESS',
    ],
    ['Digest username="a", username="b"', 'malformed Digest parameters'],
    ['Digest username="unterminated', 'malformed Digest parameters'],
  ])('refuses %s', (header, why) => {
    expect(parseDigestAuthorization(header)).toEqual({ ok: false, why });
  });

  it('reads the parameters of a challenge', () => {
    const [sha] = digestChallenges('sipxconfig', 'N0nce', true);
    expect(sha).toBe(
      'Digest realm="sipxconfig", qop="auth", algorithm=SHA-256, nonce="N0nce", stale=true',
    );
    expect(Object.fromEntries(parseAuthParams(sha.slice(7))!)).toEqual({
      realm: 'sipxconfig',
      qop: 'auth',
      algorithm: 'SHA-256',
      nonce: 'N0nce',
      stale: 'true',
    });
  });
});

describe('nonces', () => {
  const secret = Buffer.alloc(32, 7);

  it('carry their issue time and are checked by their key', () => {
    const nonce = issueNonce(secret, 1_800_000_000_123);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{48}$/);
    expect(nonceIssuedAt(secret, nonce)).toBe(1_800_000_000_123);
    expect(nonceIssuedAt(Buffer.alloc(32, 8), nonce)).toBeUndefined();
    const forged = Buffer.from(nonce, 'base64url');
    forged[3] ^= 1;
    expect(nonceIssuedAt(secret, forged.toString('base64url'))).toBeUndefined();
    expect(nonceIssuedAt(secret, 'short')).toBeUndefined();
  });

  it('differ each time', () => {
    expect(issueNonce(secret, 1)).not.toBe(issueNonce(secret, 1));
  });
});

describe('password hashes', () => {
  it('are salted scrypt that verifies only the password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$15\$8\$1\$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct');
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsE', a)).toBe(false);
    expect(await verifyPassword('correct horse', 'plain')).toBe(false);
  });
});
