// Users of the sipXcom dialect: a name (unique across accounts, as Digest identifies a user by
// name alone), an account they act for, a scrypt hash for Basic and HA1 values for Digest.
// Also the small state Digest needs shared by every API instance: the nonce key and the
// (nonce, nc) pairs already accepted.
import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { digestHa1, hashPassword } from './password-hash';

/** The realm of every Digest challenge and of the stored HA1 values (sipXconfig's name). */
export const DIGEST_REALM = 'sipxconfig';

export interface DialectUser {
  id: number;
  accountId: string;
  name: string;
  passwordHash: string;
  digestRealm: string;
  ha1Md5: Buffer;
  ha1Sha256: Buffer;
}

export class DialectUserError extends Error {
  constructor(
    readonly code: 'name_taken' | 'invalid_name' | 'weak_password',
    message: string,
  ) {
    super(message);
  }
}

/** Digest carries names in quoted strings and Basic splits at the first colon: keep them plain. */
const NAME = /^[A-Za-z0-9._@+-]{1,64}$/;
export const MIN_PASSWORD_LENGTH = 8;

@Injectable()
export class DialectUserStore {
  private secret?: Promise<Buffer>;

  constructor(private readonly ds: DataSource) {}

  /**
   * Creates the user, or sets a new password for a user of the same account; a name held by
   * another account is refused.
   */
  async createOrUpdate(accountId: string, name: string, password: string): Promise<DialectUser> {
    if (!NAME.test(name))
      throw new DialectUserError(
        'invalid_name',
        `user name must be 1–64 of A-Z a-z 0-9 . _ @ + -: ${JSON.stringify(name)}`,
      );
    if ([...password].length < MIN_PASSWORD_LENGTH)
      throw new DialectUserError(
        'weak_password',
        `password must have at least ${MIN_PASSWORD_LENGTH} characters`,
      );
    const rows: Record<string, unknown>[] = await this.ds.query(
      `INSERT INTO dialect_users AS u (account_id, name, password_hash, digest_realm, ha1_md5, ha1_sha256)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (name) DO UPDATE SET password_hash = EXCLUDED.password_hash,
         digest_realm = EXCLUDED.digest_realm, ha1_md5 = EXCLUDED.ha1_md5,
         ha1_sha256 = EXCLUDED.ha1_sha256, updated_at = now()
       WHERE u.account_id = EXCLUDED.account_id
       RETURNING ${COLUMNS}`,
      [
        accountId,
        name,
        await hashPassword(password),
        DIGEST_REALM,
        digestHa1('MD5', name, DIGEST_REALM, password),
        digestHa1('SHA-256', name, DIGEST_REALM, password),
      ],
    );
    if (rows.length === 0)
      throw new DialectUserError('name_taken', `user name ${name} belongs to another account`);
    return toUser(rows[0]);
  }

  async byName(name: string): Promise<DialectUser | undefined> {
    const [row] = await this.ds.query(`SELECT ${COLUMNS} FROM dialect_users WHERE name = $1`, [
      name,
    ]);
    return row ? toUser(row as Record<string, unknown>) : undefined;
  }

  /** The key nonces are signed with: created once, then shared by every instance. */
  nonceSecret(): Promise<Buffer> {
    this.secret ??= (async () => {
      await this.ds.query(
        `INSERT INTO dialect_auth_secret (id, secret) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`,
        [randomBytes(32)],
      );
      const [row] = await this.ds.query(`SELECT secret FROM dialect_auth_secret WHERE id = 1`);
      return (row as { secret: Buffer }).secret;
    })().catch((e: unknown) => {
      this.secret = undefined;
      throw e;
    });
    return this.secret;
  }

  /** Records one use of (nonce, nc); false when it was already used (a replay). */
  async useNonce(nonce: string, nc: number, expiresAt: Date): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `INSERT INTO dialect_digest_nonce_uses (nonce, nc, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING RETURNING 1`,
      [nonce, nc, expiresAt],
    );
    return rows.length === 1;
  }

  async pruneNonceUses(): Promise<void> {
    await this.ds.query(`DELETE FROM dialect_digest_nonce_uses WHERE expires_at < now()`);
  }
}

const COLUMNS = `id, account_id, name, password_hash, digest_realm, ha1_md5, ha1_sha256`;

function toUser(r: Record<string, unknown>): DialectUser {
  return {
    id: Number(r.id),
    accountId: r.account_id as string,
    name: r.name as string,
    passwordHash: r.password_hash as string,
    digestRealm: r.digest_realm as string,
    ha1Md5: r.ha1_md5 as Buffer,
    ha1Sha256: r.ha1_sha256 as Buffer,
  };
}
