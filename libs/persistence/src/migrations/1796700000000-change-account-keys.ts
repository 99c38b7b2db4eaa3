// A change's account name and realm in columns of their own instead of inside `registration`:
// merging them into the jsonb of every outbox row (a join, jsonb_build_object and a concatenation
// that rebuilds the whole item) cost the first-registration statement 3–7 ms of Postgres CPU per
// 1,000 rows (issue 17, docs/benchmarks.md). The readers (the relay, the SSE stream) put them
// back into the event. Rows written before keep them inside `registration`, with NULL columns.
import { MigrationInterface, QueryRunner } from 'typeorm';

export class ChangeAccountKeys1796700000000 implements MigrationInterface {
  name = 'ChangeAccountKeys1796700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE registration_changes ADD COLUMN account_name text, ADD COLUMN account_realm text`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `UPDATE registration_changes
          SET registration = registration || jsonb_strip_nulls(jsonb_build_object('account_name', account_name, 'account_realm', account_realm))
        WHERE account_name IS NOT NULL OR account_realm IS NOT NULL`,
    );
    await q.query(
      `ALTER TABLE registration_changes DROP COLUMN account_name, DROP COLUMN account_realm`,
    );
  }
}
