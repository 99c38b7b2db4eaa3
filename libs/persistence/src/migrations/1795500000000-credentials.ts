// API keys and auth tokens (Kazoo's api_auth). Only SHA-256 hashes are stored: keys and tokens
// are 256-bit random values, so a plain hash is enough to make a leaked table useless.
import { MigrationInterface, QueryRunner } from 'typeorm';

export class Credentials1795500000000 implements MigrationInterface {
  name = 'Credentials1795500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE api_keys (
        id bigserial PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        key_hash bytea NOT NULL UNIQUE,
        created_at timestamptz NOT NULL DEFAULT now(),
        revoked_at timestamptz
      )`);
    await q.query(`
      CREATE TABLE auth_tokens (
        token_hash bytea PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        api_key_id bigint REFERENCES api_keys(id) ON DELETE CASCADE,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL
      )`);
    await q.query(`CREATE INDEX auth_tokens_expiry ON auth_tokens (expires_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE auth_tokens`);
    await q.query(`DROP TABLE api_keys`);
  }
}
