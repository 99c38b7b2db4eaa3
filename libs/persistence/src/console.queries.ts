// Reads for the operator's console (apps/api/src/console): where the change feed stands, and
// the sub-accounts a token may choose from.
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** A live binding of one account, with what names it to the proxy that holds it. */
export interface ConsoleBinding {
  id: number;
  realm: string;
  username: string;
  contactUri: string;
  callId: string | null;
  origin: string;
  fsHostname: string | null;
  fsProfile: string | null;
}

/** The proxy that holds a binding: Kamailio (Kazoo events) or a FreeSWITCH profile. */
export interface HeldBy {
  kind: 'kamailio' | 'freeswitch';
  hostname?: string;
  profile?: string;
}

export function heldBy(origin: string, hostname: string | null, profile: string | null): HeldBy {
  if (origin !== 'freeswitch') return { kind: 'kamailio' };
  return {
    kind: 'freeswitch',
    ...(hostname ? { hostname } : {}),
    profile: profile ?? 'internal',
  };
}

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

  /**
   * What the Kazoo item leaves out, by binding id: refreshes so far, the phone's MAC, and the
   * proxy that holds it (what a one-contact flush is sent to).
   */
  async extras(
    ids: readonly number[],
  ): Promise<Map<number, { refreshCount: number; mac: string | null; heldBy: HeldBy }>> {
    if (ids.length === 0) return new Map();
    const rows: {
      id: number;
      refresh_count: number;
      mac: string | null;
      origin: string;
      fs_hostname: string | null;
      fs_profile: string | null;
    }[] = await this.ds.query(
      `SELECT id::float8 AS id, refresh_count, mac, origin, fs_hostname, fs_profile
         FROM registrations WHERE id = ANY($1::bigint[])`,
      [ids],
    );
    return new Map(
      rows.map((r) => [
        r.id,
        {
          refreshCount: r.refresh_count,
          mac: r.mac,
          heldBy: heldBy(r.origin, r.fs_hostname, r.fs_profile),
        },
      ]),
    );
  }

  /** One live binding of exactly this account (not a sub-account's), or undefined. */
  async liveBinding(accountId: string, id: number): Promise<ConsoleBinding | undefined> {
    const rows: Record<string, unknown>[] = await this.ds.query(
      `SELECT id::float8 AS id, realm, username, contact_uri, call_id, origin, fs_hostname, fs_profile
         FROM registrations
        WHERE id = $2 AND account_id = $1 AND ended_at IS NULL AND expires_at > now()`,
      [accountId, id],
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: r.id as number,
      realm: r.realm as string,
      username: r.username as string,
      contactUri: r.contact_uri as string,
      callId: (r.call_id as string | null) ?? null,
      origin: r.origin as string,
      fsHostname: (r.fs_hostname as string | null) ?? null,
      fsProfile: (r.fs_profile as string | null) ?? null,
    };
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
