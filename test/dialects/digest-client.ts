// The client side of HTTP Digest (RFC 7616 §3.4, qop=auth) for tests, and a raw HTTP request
// that keeps every WWW-Authenticate header apart (fetch joins them with commas).
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { digestHash, type DigestAlgorithm } from '@app/persistence';
import { parseAuthParams } from '../../apps/api/src/auth/digest';

export interface RawReply {
  status: number;
  challenges: string[];
  text: string;
}

export function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const challenges: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2)
          if (res.rawHeaders[i].toLowerCase() === 'www-authenticate')
            challenges.push(res.rawHeaders[i + 1]);
        resolve({
          status: res.statusCode ?? 0,
          challenges,
          text: Buffer.concat(chunks).toString('utf8'),
        });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The parameters of the Digest challenge for `algorithm` among a 401's challenges. */
export function digestChallenge(challenges: string[], algorithm: DigestAlgorithm) {
  for (const c of challenges) {
    if (!/^digest\s/i.test(c)) continue;
    const p = parseAuthParams(c.slice(7));
    if (p?.get('algorithm') === algorithm) return p;
  }
  throw new Error(`no Digest ${algorithm} challenge in ${JSON.stringify(challenges)}`);
}

export interface DigestAnswer {
  username: string;
  password: string;
  method: string;
  uri: string;
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  nc?: number;
  cnonce?: string;
}

/** `Authorization: Digest …` answering a challenge, computed as RFC 7616 §3.4.1 says. */
export function digestAuthorization(a: DigestAnswer): string {
  const nc = (a.nc ?? 1).toString(16).padStart(8, '0');
  const cnonce = a.cnonce ?? randomBytes(12).toString('base64url');
  const ha1 = digestHash(a.algorithm, `${a.username}:${a.realm}:${a.password}`);
  const ha2 = digestHash(a.algorithm, `${a.method}:${a.uri}`);
  const response = digestHash(a.algorithm, `${ha1}:${a.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return (
    `Digest username="${a.username}", realm="${a.realm}", nonce="${a.nonce}", uri="${a.uri}", ` +
    `algorithm=${a.algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}"`
  );
}
