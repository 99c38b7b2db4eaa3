// The reg_flush messages from other systems that the ingest applied, by Msg-ID, written in the
// transaction that applies the flush: a flush delivered again (the ingest died between commit
// and ack, or its connection dropped) is recognised and changes nothing, even when the same
// user registered again right after it. Kept as long as tombstones (a redelivery comes within
// seconds; a day is ample).
import { MigrationInterface, QueryRunner } from 'typeorm';

export class AppliedFlushes1796250000000 implements MigrationInterface {
  name = 'AppliedFlushes1796250000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE applied_flushes (
         msg_id text PRIMARY KEY,
         realm_key text NOT NULL,
         username_key text,
         published_us bigint NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await q.query(`CREATE INDEX applied_flushes_applied_at ON applied_flushes (applied_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE applied_flushes`);
  }
}
