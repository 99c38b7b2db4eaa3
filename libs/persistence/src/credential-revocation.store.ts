// The end of a credential's life: revoking API keys (and with them every token they bought) and
// revoking tokens, one or all of an account's. A revoked token is deleted; a revoked key is kept
// with its revoked_at (it can buy nothing). Used by the CLI; the API sees the change within its
// credential cache time (AuthService), and CredentialStore.resolveToken also refuses a token
// whose key was revoked, so a token bought while the key was being revoked is refused too.
import { createHash } from 'node:crypto';
import { DataSource } from 'typeorm';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export interface Revoked {
  apiKeys: number;
  tokens: number;
}

export class CredentialRevocationStore {
  constructor(private readonly ds: DataSource) {}

  /** Revokes one API key (given as the secret itself) and the tokens it bought. */
  revokeApiKey(apiKey: string): Promise<Revoked> {
    return this.revokeKeys(`key_hash = $1`, [sha256(apiKey)]);
  }

  /** Revokes every API key of the account and the tokens they bought. */
  revokeAccountApiKeys(accountId: string): Promise<Revoked> {
    return this.revokeKeys(`account_id = $1`, [accountId]);
  }

  revokeToken(token: string): Promise<Revoked> {
    return this.deleteTokens(`token_hash = $1`, [sha256(token)]);
  }

  revokeAccountTokens(accountId: string): Promise<Revoked> {
    return this.deleteTokens(`account_id = $1`, [accountId]);
  }

  // Counted by a SELECT around the DELETE: TypeORM answers a bare DELETE with [rows, rowCount].
  private async deleteTokens(where: string, params: unknown[]): Promise<Revoked> {
    const [row] = await this.ds.query<{ n: number }[]>(
      `WITH d AS (DELETE FROM auth_tokens WHERE ${where} RETURNING 1) SELECT count(*)::int AS n FROM d`,
      params,
    );
    return { apiKeys: 0, tokens: row.n };
  }

  private async revokeKeys(where: string, params: unknown[]): Promise<Revoked> {
    const [row] = await this.ds.query<Revoked[]>(
      `WITH keys AS (
         UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE ${where}
         RETURNING id
       ), tokens AS (
         DELETE FROM auth_tokens WHERE api_key_id IN (SELECT id FROM keys) RETURNING 1
       )
       SELECT (SELECT count(*) FROM keys)::int AS "apiKeys",
              (SELECT count(*) FROM tokens)::int AS tokens`,
      params,
    );
    return row;
  }
}
