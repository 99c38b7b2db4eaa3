// A batch is written by one statement outside any explicit transaction (bench/ingest: BEGIN,
// COMMIT and the outbox's own statements were round trips on the ingest's critical path). The
// statement must then undo itself when another writer changed a row since the batch read it:
// this function raises (SQLSTATE RGW01) when fewer rows were written than sent, which aborts
// the whole statement and so everything it wrote.
import { MigrationInterface, QueryRunner } from 'typeorm';

export class BatchWriteCheck1796000000000 implements MigrationInterface {
  name = 'BatchWriteCheck1796000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE FUNCTION registrations_check_written(expected int, written int) RETURNS int
         LANGUAGE plpgsql AS $$
       BEGIN
         IF written <> expected THEN
           RAISE EXCEPTION '% of % bindings changed since the batch read them', expected - written, expected
             USING ERRCODE = 'RGW01';
         END IF;
         RETURN written;
       END $$`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP FUNCTION registrations_check_written(int, int)`);
  }
}
