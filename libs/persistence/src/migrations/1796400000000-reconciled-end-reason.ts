// End reason and change `reconciled`: a binding the proxy no longer holds, ended by a
// reconciliation with the proxies (docs/reconciliation.md). The CHECK constraints of the
// initial schema and the outbox are replaced by ones that allow it (found by column, since
// their names came from Postgres).
import { MigrationInterface, QueryRunner } from 'typeorm';

const OLD_REASONS = `'unregistered', 'expired', 'flushed', 'replaced'`;
const OLD_CHANGES = `'registered', 'refreshed', ${OLD_REASONS}`;

async function replaceCheck(q: QueryRunner, table: string, column: string, values: string) {
  const rows: { conname: string }[] = await q.query(
    `SELECT c.conname FROM pg_constraint c
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
      WHERE c.conrelid = $1::regclass AND c.contype = 'c' AND a.attname = $2`,
    [table, column],
  );
  for (const r of rows) await q.query(`ALTER TABLE ${table} DROP CONSTRAINT "${r.conname}"`);
  await q.query(
    `ALTER TABLE ${table} ADD CONSTRAINT ${table}_${column}_check CHECK (${column} IN (${values}))`,
  );
}

export class ReconciledEndReason1796400000000 implements MigrationInterface {
  name = 'ReconciledEndReason1796400000000';

  async up(q: QueryRunner): Promise<void> {
    await replaceCheck(q, 'registrations', 'end_reason', `${OLD_REASONS}, 'reconciled'`);
    await replaceCheck(q, 'registration_history', 'end_reason', `${OLD_REASONS}, 'reconciled'`);
    await replaceCheck(q, 'registration_changes', 'change', `${OLD_CHANGES}, 'reconciled'`);
  }

  async down(q: QueryRunner): Promise<void> {
    await replaceCheck(q, 'registrations', 'end_reason', OLD_REASONS);
    await replaceCheck(q, 'registration_history', 'end_reason', OLD_REASONS);
    await replaceCheck(q, 'registration_changes', 'change', OLD_CHANGES);
  }
}
