// Reads for the operator's console (apps/api/src/console): where the change feed stands, and
// the sub-accounts a token may choose from.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface AccountSummary {
  id: string;
  name: string | null;
  realm: string | null;
  parentId: string | null;
}

@Injectable()
export class ConsoleQueries {
  constructor(private readonly ds: DataSource) {}

  /** The newest change feed position: a console resumes the feed after it (no snapshot). */
  async position(): Promise<number> {
    const [row] = await this.ds.query(
      `SELECT coalesce(max(seq), 0)::bigint AS seq FROM registration_changes`,
    );
    return Number(row.seq);
  }

  /** What the Kazoo item leaves out, by binding id: refreshes so far and the phone's MAC. */
  async extras(
    ids: readonly number[],
  ): Promise<Map<number, { refreshCount: number; mac: string | null }>> {
    if (ids.length === 0) return new Map();
    const rows: { id: number; refresh_count: number; mac: string | null }[] = await this.ds.query(
      `SELECT id::float8 AS id, refresh_count, mac FROM registrations WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, { refreshCount: r.refresh_count, mac: r.mac }]));
  }

  /** The account and its descendants (at most `limit`), the account first, then by name. */
  async subtree(accountId: string, limit = 500): Promise<AccountSummary[]> {
    const rows: Record<string, unknown>[] = await this.ds.query(
      `WITH RECURSIVE down(id, depth) AS (
         SELECT id, 0 FROM accounts WHERE id = $1
         UNION ALL
         SELECT a.id, down.depth + 1 FROM accounts a JOIN down ON a.parent_id = down.id
          WHERE down.depth < 64
       )
       SELECT a.id, a.name, a.realm, a.parent_id FROM down JOIN accounts a USING (id)
        ORDER BY down.depth > 0, a.name NULLS LAST, a.id LIMIT $2`,
      [accountId, limit],
    );
    return rows.map((r) => ({
      id: r.id as string,
      name: (r.name as string | null) ?? null,
      realm: (r.realm as string | null) ?? null,
      parentId: (r.parent_id as string | null) ?? null,
    }));
  }
}
