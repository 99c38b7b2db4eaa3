// Refreshes as HOT updates: a refresh changes a binding's expiry, event time, Msg-IDs and
// refresh count, and nothing else that is indexed once the expiry is out of the indexes. Postgres
// then writes the new row version on the same page with no new index entry (heap-only tuple)
// instead of an entry in each of the table's nine indexes (GIN lookup keys included). Measured on
// 1,000-row refresh statements: 43–47 ms of Postgres CPU before, 6 ms after (docs/benchmarks.md).
//
// The sweeper still needs to find due bindings without reading the table: `sweep_at`, indexed,
// is a lower bound of `expires_at` that a refresh leaves alone (the write keeps
// LEAST(sweep_at, expires_at): unchanged when the expiry moves later). The sweeper reads the
// bindings whose bound has passed, ends those really expired and moves the bound of the others
// (refreshed meanwhile) up to their expiry: about one index write per binding per expiry period,
// done by the sweeper off the ingest path instead of one per refresh. A row written without
// sweep_at (a hand-written INSERT) gets -infinity: due at once, so the sweeper sets it. Whoever
// moves an expiry earlier than the bound (a hand-written UPDATE, a shorter re-registration), a
// row trigger lowers the bound with it; its WHEN is evaluated without calling the function, so
// a refresh (expiry later) pays no function call.
//
// fillfactor 50 leaves room on every page for a new version of each of its rows: a refresh wave
// updates every row of a page in one statement, before any old version can be pruned. It only
// applies to pages written from now on.
//
// Counting an account's unswept expired bindings (the count endpoint) goes through the sweep
// bound as well: (account_id, expires_at) becomes (account_id, sweep_at). With the account
// alone, the planner (without statistics, as after a storm on a table autovacuum has not
// analyzed yet) took registrations_live_account and read every binding of the account.
import { MigrationInterface, QueryRunner } from 'typeorm';

export class HotRefreshes1796317000000 implements MigrationInterface {
  name = 'HotRefreshes1796317000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE registrations ADD COLUMN sweep_at timestamptz NOT NULL DEFAULT '-infinity'`,
    );
    await q.query(`UPDATE registrations SET sweep_at = expires_at WHERE ended_at IS NULL`);
    await q.query(
      `CREATE INDEX registrations_live_sweep ON registrations (sweep_at) WHERE ended_at IS NULL`,
    );
    await q.query(
      `CREATE INDEX registrations_live_account_sweep ON registrations (account_id, sweep_at) WHERE ended_at IS NULL`,
    );
    await q.query(`CREATE FUNCTION registrations_lower_sweep_bound() RETURNS trigger
        LANGUAGE plpgsql AS $$ BEGIN NEW.sweep_at := NEW.expires_at; RETURN NEW; END $$`);
    await q.query(`CREATE TRIGGER registrations_lower_sweep_bound
        BEFORE INSERT OR UPDATE ON registrations
        FOR EACH ROW WHEN (NEW.sweep_at > NEW.expires_at)
        EXECUTE FUNCTION registrations_lower_sweep_bound()`);
    await q.query(`DROP INDEX registrations_live_expiry`);
    await q.query(`DROP INDEX registrations_live_account_expiry`);
    await q.query(`ALTER TABLE registrations SET (fillfactor = 50)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE registrations SET (fillfactor = 80)`);
    await q.query(
      `CREATE INDEX registrations_live_account_expiry ON registrations (account_id, expires_at) WHERE ended_at IS NULL`,
    );
    await q.query(
      `CREATE INDEX registrations_live_expiry ON registrations (expires_at) WHERE ended_at IS NULL`,
    );
    await q.query(`DROP INDEX registrations_live_account_sweep`);
    await q.query(`DROP INDEX registrations_live_sweep`);
    await q.query(`DROP TRIGGER registrations_lower_sweep_bound ON registrations`);
    await q.query(`DROP FUNCTION registrations_lower_sweep_bound()`);
    await q.query(`ALTER TABLE registrations DROP COLUMN sweep_at`);
  }
}
