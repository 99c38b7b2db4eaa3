// Writes binding changes to the outbox (registration_changes) inside the caller's transaction.
// The advisory lock serialises outbox writers until they commit, so sequence order is commit
// order: readers that follow `seq > last` never skip a change committed late.
import type { QueryRunner } from 'typeorm';
import { BindingChange, toKazooItem } from '@app/registrations';

export const OUTBOX_LOCK = 7_406_313;

export interface ChangeFeedOptions {
  enabled: boolean;
  /** Refreshes are frequent and rarely interesting: off by default. */
  refreshes: boolean;
}

export async function recordChanges(
  q: QueryRunner,
  changes: readonly BindingChange[],
  opts: ChangeFeedOptions,
): Promise<number> {
  if (!opts.enabled) return 0;
  const kept = opts.refreshes ? changes : changes.filter((c) => c.change !== 'refreshed');
  if (kept.length === 0) return 0;
  const accountIds = [
    ...new Set(kept.map((c) => c.binding.accountId).filter((id): id is string => !!id)),
  ];
  const accounts = new Map<string, { name: string | null; realm: string | null }>();
  if (accountIds.length > 0) {
    const rows: { id: string; name: string | null; realm: string | null }[] = await q.query(
      `SELECT id, name, realm FROM accounts WHERE id = ANY($1::text[])`,
      [accountIds],
    );
    for (const r of rows) accounts.set(r.id, r);
  }
  const records = kept.map((c, ord) => ({
    ord,
    change: c.change,
    occurred_us: c.occurredUs,
    account_id: c.binding.accountId ?? null,
    realm: c.binding.realm,
    username: c.binding.username,
    registration_id: c.binding.id ?? null,
    registration: toKazooItem(
      c.binding,
      c.binding.accountId ? accounts.get(c.binding.accountId) : undefined,
    ),
  }));
  await q.query(`SELECT pg_advisory_xact_lock($1)`, [OUTBOX_LOCK]);
  await q.query(
    `INSERT INTO registration_changes (change, occurred_at, account_id, realm, username, registration_id, registration)
     SELECT change, to_timestamp(occurred_us / 1e6), account_id, realm, username, registration_id, registration
       FROM json_to_recordset($1::json) AS t(ord int, change text, occurred_us bigint, account_id text, realm text,
                                             username text, registration_id bigint, registration jsonb)
      ORDER BY ord`,
    [JSON.stringify(records)],
  );
  return records.length;
}
