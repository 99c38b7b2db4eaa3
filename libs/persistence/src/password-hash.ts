// Password hashes for dialect users: scrypt (node:crypto) with a random salt, stored as
// `scrypt$<log2 N>$<r>$<p>$<salt b64>$<key b64>` so that the cost can be raised later without
// invalidating existing hashes; and the Digest HA1 values (RFC 7616 §3.4.2).
import { createHash, randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';

/** 2^15 × 8 × 128 B = 32 MiB and tens of milliseconds per hash. */
const COST = { log2N: 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

function scryptAsync(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

const optionsOf = (log2N: number, r: number, p: number): ScryptOptions => ({
  N: 2 ** log2N,
  r,
  p,
  maxmem: 2 * 128 * r * 2 ** log2N + 1024 * 1024,
});

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, optionsOf(COST.log2N, COST.r, COST.p));
  return [
    'scrypt',
    COST.log2N,
    COST.r,
    COST.p,
    salt.toString('base64'),
    key.toString('base64'),
  ].join('$');
}

/** Whether `password` matches `stored`; false (never a throw) for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(
    stored,
  );
  if (!m) return false;
  const expected = Buffer.from(m[5], 'base64');
  const [log2N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (log2N < 10 || log2N > 20 || r < 1 || p < 1 || expected.length !== KEY_LENGTH) return false;
  const key = await scryptAsync(password, Buffer.from(m[4], 'base64'), optionsOf(log2N, r, p));
  return timingSafeEqual(key, expected);
}

/** A hash of a random password, to spend the same time on unknown names as on known ones. */
export const DUMMY_PASSWORD_HASH = `scrypt$${COST.log2N}$${COST.r}$${COST.p}$${randomBytes(16).toString('base64')}$${randomBytes(KEY_LENGTH).toString('base64')}`;

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(data, 'utf8')
    .digest('hex');
}

/** H(username ":" realm ":" password), RFC 7616 §3.4.2, as raw bytes. */
export function digestHa1(
  algorithm: DigestAlgorithm,
  name: string,
  realm: string,
  password: string,
): Buffer {
  return Buffer.from(digestHash(algorithm, `${name}:${realm}:${password}`), 'hex');
}
