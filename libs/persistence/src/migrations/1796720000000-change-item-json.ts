// A change's Kazoo item as `json` (`registration_changes.item`) instead of `jsonb`
// (`registration`): nothing queries inside it in SQL, so parsing every item into jsonb on write
// and printing it back to text for the relay was Postgres CPU for nothing (issue 17: ~10 ms per
// 1,000 first registrations in the write statement, ~3 ms per 1,000 in the relay's reads).
// `json` stores the text as written and hands it back as is.
//
// Changing the column's type would rewrite the whole outbox (CHANGE_RETENTION_DAYS of changes,
// possibly millions of rows) under an exclusive lock. Instead, one ALTER that only touches the
// catalogue: a new nullable column, `registration` made nullable, and a check that every new row
// has one of them (NOT VALID: the rows already there all have `registration`, which was NOT NULL;
// validating would scan the table while this migration's exclusive lock is held). Writers write
// `item` only; readers take `COALESCE(item, registration)`, so rows written before come out as
// they did. Retention ages those out: once CHANGE_RETENTION_DAYS have passed since this ran (no
// row with `item IS NULL` left), a later migration may drop `registration` and the check, and
// make `item` NOT NULL (after a separate VALIDATE of a CHECK (item IS NOT NULL), so that SET NOT
// NULL need not scan under its lock).
import { MigrationInterface, QueryRunner } from 'typeorm';

export class ChangeItemJson1796720000000 implements MigrationInterface {
  name = 'ChangeItemJson1796720000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `ALTER TABLE registration_changes
         ADD COLUMN item json,
         ALTER COLUMN registration DROP NOT NULL,
         ADD CONSTRAINT registration_changes_item_or_registration
           CHECK (item IS NOT NULL OR registration IS NOT NULL) NOT VALID`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    // Rewrites the rows written since up (the only ones with `item`): a rollback, not a deploy.
    await q.query(
      `UPDATE registration_changes SET registration = item::jsonb WHERE registration IS NULL`,
    );
    await q.query(
      `ALTER TABLE registration_changes
         DROP CONSTRAINT registration_changes_item_or_registration,
         ALTER COLUMN registration SET NOT NULL,
         DROP COLUMN item`,
    );
  }
}
