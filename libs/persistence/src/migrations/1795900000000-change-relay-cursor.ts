// The relay remembers how far it has published as one position instead of marking every row:
// sequence order is commit order (see 1795600000000), so "published" is simply seq <= position.
// bench/ingest measured the per-row UPDATE as a large part of the change feed's cost.
import { MigrationInterface, QueryRunner } from 'typeorm';

export class ChangeRelayCursor1795900000000 implements MigrationInterface {
  name = 'ChangeRelayCursor1795900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE registration_changes_relay (id int PRIMARY KEY CHECK (id = 1), published_through bigint NOT NULL)`,
    );
    await q.query(
      `INSERT INTO registration_changes_relay
       SELECT 1, coalesce((SELECT max(seq) FROM registration_changes WHERE published_at IS NOT NULL), 0)`,
    );
    await q.query(`DROP INDEX registration_changes_unpublished`);
    await q.query(`ALTER TABLE registration_changes DROP COLUMN published_at`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registration_changes ADD COLUMN published_at timestamptz`);
    await q.query(
      `UPDATE registration_changes SET published_at = now() WHERE seq <= (SELECT published_through FROM registration_changes_relay)`,
    );
    await q.query(
      `CREATE INDEX registration_changes_unpublished ON registration_changes (seq) WHERE published_at IS NULL`,
    );
    await q.query(`DROP TABLE registration_changes_relay`);
  }
}
