// sipXcom tells an unknown phone or server (404) from one with nothing registered by asking
// whether the MAC or server ever held a binding: live, ended (a tombstone) or in the history
// (DialectQueries.seen). Only live bindings had a lookup index (registrations_live_lookup,
// partial on ended_at IS NULL): the tombstones were a parallel sequential scan of the
// registrations table and the history a filter over every row of the caller's accounts (all
// rows for a super-admin). The same GIN lookup keys over tombstones and history serve it.
//
// Neither is on the refresh path: a tombstone's keys are written when the binding ends (an
// update that already writes index entries: ended_at is in the live indexes' predicates), a
// history row once, when it is inserted.
import { MigrationInterface, QueryRunner } from 'typeorm';

const KEYS = 'reg_lookup_keys(mac, contact_ip, source_ip, proxy_ip, proxy_path, registrar_node)';

export class EndedLookupKeys1796665000000 implements MigrationInterface {
  name = 'EndedLookupKeys1796665000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE INDEX registrations_ended_lookup ON registrations USING gin (${KEYS}) WHERE ended_at IS NOT NULL`,
    );
    await q.query(
      `CREATE INDEX registration_history_lookup ON registration_history USING gin (${KEYS})`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX registration_history_lookup`);
    await q.query(`DROP INDEX registrations_ended_lookup`);
  }
}
