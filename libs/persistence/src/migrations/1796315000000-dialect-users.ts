// sipXcom-style users with passwords (HTTP Basic and Digest on the sipXcom routes).
// - password_hash: scrypt, for Basic; the password itself is never stored.
// - ha1_md5 / ha1_sha256: H(name:realm:password) for Digest (RFC 7616 §3.4.2), what htdigest and
//   sipXconfig's own pintoken keep: usable only to answer Digest challenges of that realm.
// - dialect_digest_nonce_uses: each (nonce, nc) accepted once, whichever API instance sees it
//   (replay protection); rows go when their nonce has expired.
// - dialect_auth_secret: the one key nonces are signed with, shared by every API instance.
import { MigrationInterface, QueryRunner } from 'typeorm';

export class DialectUsers1796315000000 implements MigrationInterface {
  name = 'DialectUsers1796315000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE dialect_users (
        id bigserial PRIMARY KEY,
        account_id text NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
        name text NOT NULL UNIQUE,
        password_hash text NOT NULL,
        digest_realm text NOT NULL,
        ha1_md5 bytea NOT NULL,
        ha1_sha256 bytea NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query(`
      CREATE TABLE dialect_digest_nonce_uses (
        nonce text NOT NULL,
        nc bigint NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (nonce, nc)
      )`);
    await q.query(
      `CREATE INDEX dialect_digest_nonce_uses_expiry ON dialect_digest_nonce_uses (expires_at)`,
    );
    await q.query(`
      CREATE TABLE dialect_auth_secret (
        id smallint PRIMARY KEY CHECK (id = 1),
        secret bytea NOT NULL
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE dialect_auth_secret`);
    await q.query(`DROP TABLE dialect_digest_nonce_uses`);
    await q.query(`DROP TABLE dialect_users`);
  }
}
