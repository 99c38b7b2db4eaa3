// Reads of the change feed for the SSE stream: a consistent snapshot (live bindings and the
// seq they correspond to), the changes after a position, and the retention horizon.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ITEM_JSON } from './change-outbox';
import { LIVE_ROW_SELECT, LiveRow } from './registration.queries';

export interface ChangeRow {
  seq: string;
  change: string;
  occurred_at: Date;
  account_id: string | null;
  registration: Record<string, unknown>;
}

@Injectable()
export class ChangeQueries {
  constructor(private readonly ds: DataSource) {}

  /** Live bindings of the account and the last seq they include, read in one snapshot. */
  async snapshot(accountId: string): Promise<{ seq: number; rows: LiveRow[] }> {
    const q = this.ds.createQueryRunner();
    await q.connect();
    try {
      await q.startTransaction('REPEATABLE READ');
      const [{ seq }] = await q.query(
        `SELECT coalesce(max(seq), 0)::bigint AS seq FROM registration_changes`,
      );
      const rows: LiveRow[] = await q.query(
        `SELECT ${LIVE_ROW_SELECT}
           FROM registrations r LEFT JOIN accounts a ON a.id = r.account_id
          WHERE r.account_id = $1 AND r.ended_at IS NULL AND r.expires_at > now()
          ORDER BY r.username_key, r.realm_key, r.contact_uri`,
        [accountId],
      );
      await q.commitTransaction();
      return { seq: Number(seq), rows };
    } finally {
      await q.release();
    }
  }

  async after(accountId: string, seq: number, limit = 500): Promise<ChangeRow[]> {
    const rows: (ChangeRow & { account_name: string | null; account_realm: string | null })[] =
      await this.ds.query(
        `SELECT seq, change, occurred_at, account_id, ${ITEM_JSON} AS registration, account_name, account_realm
           FROM registration_changes
          WHERE account_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`,
        [accountId, seq, limit],
      );
    // The account's keys as they were written (their own columns since migration 1796700000000;
    // NULL, and inside the item, before), first, as the relay puts them (its EVENT_BODY).
    return rows.map(({ account_name, account_realm, ...r }) => {
      const keys: Record<string, string> = {};
      if (account_name !== null) keys.account_name = account_name;
      if (account_realm !== null) keys.account_realm = account_realm;
      return { ...r, registration: { ...keys, ...r.registration } };
    });
  }

  /** Positions at or below this were dropped by retention. */
  async horizon(): Promise<number> {
    const [row] = await this.ds.query(
      `SELECT pruned_through FROM registration_changes_horizon WHERE id = 1`,
    );
    return Number(row?.pruned_through ?? 0);
  }
}
