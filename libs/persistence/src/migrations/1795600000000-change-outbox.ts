// The change feed's transactional outbox: one row per binding change, written in the same
// transaction as the change, numbered by a sequence that only grows. Writers take an advisory
// lock before inserting, so sequence order is commit order and a reader that has seen seq N
// can never later find a smaller committed seq (no gaps to skip).
import { MigrationInterface, QueryRunner } from 'typeorm';

export class ChangeOutbox1795600000000 implements MigrationInterface {
  name = 'ChangeOutbox1795600000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE registration_changes (
        seq bigserial PRIMARY KEY,
        change text NOT NULL CHECK (change IN ('registered', 'refreshed', 'unregistered', 'expired', 'flushed', 'replaced')),
        occurred_at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        account_id text,
        realm text NOT NULL,
        username text NOT NULL,
        registration_id bigint,
        registration jsonb NOT NULL,
        published_at timestamptz
      )`);
    await q.query(
      `CREATE INDEX registration_changes_unpublished ON registration_changes (seq) WHERE published_at IS NULL`,
    );
    await q.query(
      `CREATE INDEX registration_changes_account ON registration_changes (account_id, seq)`,
    );
    await q.query(
      `CREATE INDEX registration_changes_recorded ON registration_changes (recorded_at)`,
    );
    // The newest seq dropped by retention: a position at or below it can no longer be resumed.
    await q.query(
      `CREATE TABLE registration_changes_horizon (id int PRIMARY KEY CHECK (id = 1), pruned_through bigint NOT NULL)`,
    );
    await q.query(`INSERT INTO registration_changes_horizon VALUES (1, 0)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE registration_changes_horizon`);
    await q.query(`DROP TABLE registration_changes`);
  }
}
