// API keys and the auth tokens they buy (Kazoo's PUT /v2/api_auth). Secrets are returned once
// and stored only as SHA-256 hashes.
import { Injectable } from '@nestjs/common';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';

export interface TokenGrant {
  accountId: string;
  expiresAt: Date;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

@Injectable()
export class CredentialStore {
  constructor(private readonly ds: DataSource) {}

  /** A new API key for the account (64 hex digits, like Kazoo's). */
  async createApiKey(accountId: string): Promise<string> {
    const key = randomBytes(32).toString('hex');
    await this.ds.query(`INSERT INTO api_keys (account_id, key_hash) VALUES ($1, $2)`, [
      accountId,
      sha256(key),
    ]);
    return key;
  }

  /** Exchanges an API key for a token valid `ttlSeconds`; undefined when the key is unknown. */
  async issueToken(
    apiKey: string,
    ttlSeconds: number,
  ): Promise<{ token: string; accountId: string; expiresAt: Date } | undefined> {
    const token = randomBytes(32).toString('base64url');
    const rows: { account_id: string; expires_at: Date }[] = await this.ds.query(
      `INSERT INTO auth_tokens (token_hash, account_id, api_key_id, expires_at)
       SELECT $2, k.account_id, k.id, now() + make_interval(secs => $3)
         FROM api_keys k WHERE k.key_hash = $1 AND k.revoked_at IS NULL
       RETURNING account_id, expires_at`,
      [sha256(apiKey), sha256(token), ttlSeconds],
    );
    if (rows.length === 0) return undefined;
    return { token, accountId: rows[0].account_id, expiresAt: rows[0].expires_at };
  }

  /** The account an unexpired token acts for. */
  async resolveToken(token: string): Promise<TokenGrant | undefined> {
    const [row] = await this.ds.query(
      // A token whose API key was revoked is refused even if it escaped the revocation's delete.
      `SELECT t.account_id, t.expires_at FROM auth_tokens t LEFT JOIN api_keys k ON k.id = t.api_key_id
        WHERE t.token_hash = $1 AND t.expires_at > now() AND k.revoked_at IS NULL`,
      [sha256(token)],
    );
    return row
      ? { accountId: row.account_id as string, expiresAt: row.expires_at as Date }
      : undefined;
  }

  /** The account of an API key used directly (sipXcom Basic auth). */
  async resolveApiKey(apiKey: string): Promise<string | undefined> {
    const [row] = await this.ds.query(
      `SELECT account_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL`,
      [sha256(apiKey)],
    );
    return row?.account_id as string | undefined;
  }

  async pruneExpiredTokens(): Promise<void> {
    await this.ds.query(`DELETE FROM auth_tokens WHERE expires_at < now() - interval '1 day'`);
  }
}
