// Reads of the sipXcom and hosted-PBX dialects and of the history API, over the one store:
// live bindings by filter (user, MAC, address, Call-ID, server, extension), an extension's last
// ended bindings, an account's binding history, and the flush targets of selected bindings.
// Every read of bindings is limited to an account scope (the caller's subtree, or everything).
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import type { FlushTarget } from './registration.queries';

/** The accounts a caller may see: every account (super-admin) or a list of ids. */
export type AccountScope = { all: true } | { all?: false; accountIds: readonly string[] };

/** Which live bindings a dialect asks for. Values are compared as the store keeps them. */
export type LiveFilter =
  | { by: 'all' }
  | { by: 'extensions'; ids: readonly number[] }
  /** 12 lower-case hex digits. */
  | { by: 'mac'; mac: string }
  /** The phone's contact or source address (IPv4, IPv6 in any spelling, or a host name). */
  | { by: 'address'; address: string }
  | { by: 'callId'; callId: string }
  /** The proxy holding the binding: its address, its proxy path's host, its node name or host. */
  | { by: 'server'; server: string };

/** A binding as a one-contact flush names it: the Call-ID (both proxies) and contact URI. */
export interface ContactFlushTarget extends FlushTarget {
  id: number;
  call_id: string | null;
  contact_uri: string;
}

/** A binding as the dialects present it; times in (fractional) Unix seconds. */
export interface DialectRow {
  id: number;
  extensionId: number | null;
  accountId: string | null;
  realm: string;
  username: string;
  originalContact: string;
  contactIp: string | null;
  contactPort: number | null;
  sourceIp: string | null;
  sourcePort: number | null;
  networkIp: string | null;
  networkPort: number | null;
  callId: string | null;
  userAgent: string | null;
  mac: string | null;
  proxyIp: string | null;
  proxyPath: string | null;
  registrarNode: string | null;
  refreshCount: number;
  firstRegisteredS: number;
  lastRegisteredS: number;
  expiresAtS: number;
  /** Set once the binding ended (or, for an unswept binding past expiry, its expiry). */
  endedAtS: number | null;
  endReason: string | null;
}

export interface HistoryQuery {
  accountId: string;
  username?: string;
  contactIp?: string;
  reason?: string;
  /** Segments that ended at or after / at or before these Unix seconds. */
  endedFromS?: number;
  endedToS?: number;
  /** Rows after this [ended_at as text, history id] (newest first). */
  after?: [string, string];
  limit: number;
}

/** One ended segment of a binding's life. */
export interface HistoryRow extends DialectRow {
  historyId: string;
  /** ended_at, exact to the microsecond, for start_key paging. */
  endedAtText: string;
}

const S = (col: string) => `extract(epoch from ${col})::float8`;

/** Select-list over a binding table alias (registrations or registration_history). */
const ROW_SELECT = (t: string, id: string) => `
  ${id}::float8 AS "id", e.id AS "extensionId", ${t}.account_id AS "accountId",
  ${t}.realm, ${t}.username, ${t}.original_contact AS "originalContact",
  ${t}.contact_ip AS "contactIp", ${t}.contact_port AS "contactPort",
  ${t}.source_ip AS "sourceIp", ${t}.source_port AS "sourcePort",
  ${t}.network_ip AS "networkIp", ${t}.network_port AS "networkPort",
  ${t}.call_id AS "callId", ${t}.user_agent AS "userAgent", ${t}.mac,
  ${t}.proxy_ip AS "proxyIp", ${t}.proxy_path AS "proxyPath", ${t}.registrar_node AS "registrarNode",
  ${t}.refresh_count AS "refreshCount",
  ${S(`${t}.first_registered_at`)} AS "firstRegisteredS",
  ${S(`${t}.last_registered_at`)} AS "lastRegisteredS",
  ${S(`${t}.expires_at`)} AS "expiresAtS"`;

const EXT_JOIN = (t: string) =>
  `LEFT JOIN extensions e ON e.realm_key = ${t}.realm_key AND e.username_key = ${t}.username_key`;

/** The index expression of registrations_live_lookup (migration 1795700000000). */
const LOOKUP_KEYS = `reg_lookup_keys(r.mac, r.contact_ip, r.source_ip, r.proxy_ip, r.proxy_path, r.registrar_node)`;

const LIVE = 'r.ended_at IS NULL AND r.expires_at > now()';

/** How many ended bindings answer for an extension with none live. */
export const LAST_ENDED_PER_EXTENSION = 10;

class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

function scopeSql(scope: AccountScope, p: Params, column: string): string {
  return scope.all ? 'true' : `${column} = ANY(${p.add(scope.accountIds)}::text[])`;
}

@Injectable()
export class DialectQueries {
  constructor(private readonly ds: DataSource) {}

  /** The account and every descendant (the tree is kept acyclic; depth is capped anyway). */
  async subtree(accountId: string): Promise<string[]> {
    const rows: { id: string }[] = await this.ds.query(
      `WITH RECURSIVE down(id, depth) AS (
         SELECT id, 0 FROM accounts WHERE id = $1
         UNION ALL
         SELECT a.id, d.depth + 1 FROM accounts a JOIN down d ON a.parent_id = d.id WHERE d.depth < 64
       ) SELECT DISTINCT id FROM down`,
      [accountId],
    );
    return rows.map((r) => r.id);
  }

  /** Live bindings in scope matching the filter, ordered by realm, user and contact. */
  async listLive(
    scope: AccountScope,
    filter: LiveFilter,
    page: { offset?: number; limit?: number; order?: 'expires_desc' } = {},
  ): Promise<DialectRow[]> {
    const p = new Params();
    const where = [LIVE, scopeSql(scope, p, 'r.account_id')];
    switch (filter.by) {
      case 'all':
        break;
      case 'extensions':
        where.push(`e.id = ANY(${p.add(filter.ids)}::int[])`);
        break;
      case 'mac':
        where.push(`${LOOKUP_KEYS} @> ARRAY['m:' || lower(${p.add(filter.mac)})]`);
        break;
      case 'address':
        where.push(`${LOOKUP_KEYS} @> ARRAY['a:' || reg_ip_key(${p.add(filter.address)})]`);
        break;
      case 'callId':
        where.push(`r.call_id = ${p.add(filter.callId)}`);
        break;
      case 'server':
        where.push(`${LOOKUP_KEYS} @> ARRAY['s:' || reg_ip_key(${p.add(filter.server)})]`);
        break;
    }
    let paging = '';
    if (page.limit !== undefined) paging += ` LIMIT ${p.add(page.limit)}`;
    if (page.offset) paging += ` OFFSET ${p.add(page.offset)}`;
    return this.rows(
      `SELECT ${ROW_SELECT('r', 'r.id')}, NULL::float8 AS "endedAtS", NULL::text AS "endReason"
         FROM registrations r ${EXT_JOIN('r')}
        WHERE ${where.join(' AND ')}
        ORDER BY ${page.order === 'expires_desc' ? 'r.expires_at DESC, r.id' : 'r.realm_key, r.username_key, r.contact_uri'}${paging}`,
      p.values,
    );
  }

  /**
   * Whether a MAC or a server ever held a binding in scope, live, ended (a tombstone) or in the
   * history: sipXcom tells an unknown phone or server (404) from one with nothing registered.
   */
  async seen(
    scope: AccountScope,
    filter: { by: 'mac'; mac: string } | { by: 'server'; server: string },
  ): Promise<boolean> {
    const p = new Params();
    const key =
      filter.by === 'mac'
        ? `ARRAY['m:' || lower(${p.add(filter.mac)})]`
        : `ARRAY['s:' || reg_ip_key(${p.add(filter.server)})]`;
    const inScope = scopeSql(scope, p, 'r.account_id');
    const rows: unknown[] = await this.ds.query(
      // Live and ended bindings apart: each has its own partial lookup index.
      `SELECT 1 WHERE EXISTS (SELECT 1 FROM registrations r WHERE r.ended_at IS NULL AND ${LOOKUP_KEYS} @> ${key} AND ${inScope})
          OR EXISTS (SELECT 1 FROM registrations r WHERE r.ended_at IS NOT NULL AND ${LOOKUP_KEYS} @> ${key} AND ${inScope})
          OR EXISTS (SELECT 1 FROM registration_history r WHERE ${LOOKUP_KEYS} @> ${key} AND ${inScope})`,
      p.values,
    );
    return rows.length > 0;
  }

  /** Bindings by id in any state (to show what a flush ended). */
  async byIds(ids: readonly number[]): Promise<DialectRow[]> {
    return this.rows(
      `SELECT ${ROW_SELECT('r', 'r.id')}, ${S('r.ended_at')} AS "endedAtS", r.end_reason AS "endReason"
         FROM registrations r ${EXT_JOIN('r')}
        WHERE r.id = ANY($1::bigint[])
        ORDER BY r.realm_key, r.username_key, r.contact_uri`,
      [ids],
    );
  }

  /**
   * sipXcom's user id: `user@realm`, a user name, or (when no user has that name) the internal
   * id, which here is the extension id. Returns the matching extension ids in scope.
   */
  async resolveUser(scope: AccountScope, userId: string): Promise<number[]> {
    const at = userId.lastIndexOf('@');
    if (at > 0) {
      return this.extensionIds(
        scope,
        (p) =>
          `e.username_key = lower(${p.add(userId.slice(0, at))}) AND e.realm_key = lower(${p.add(userId.slice(at + 1))})`,
      );
    }
    const byName = await this.extensionIds(
      scope,
      (p) => `e.username_key = lower(${p.add(userId)})`,
    );
    if (byName.length > 0 || !/^\d{1,9}$/.test(userId)) return byName;
    return this.extensionIds(scope, (p) => `e.id = ${p.add(Number(userId))}::int`);
  }

  /** Owners of extensions (missing ids are unknown). */
  async extensionOwners(ids: readonly number[]): Promise<Map<number, string | null>> {
    const rows: { id: number; account_id: string | null }[] = await this.ds.query(
      `SELECT id, account_id FROM extensions WHERE id = ANY($1::int[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.account_id]));
  }

  /** Extension ids in scope, in id order, one page. */
  async listExtensions(scope: AccountScope, offset: number, limit: number): Promise<number[]> {
    const p = new Params();
    const where = scopeSql(scope, p, 'e.account_id');
    const rows: { id: number }[] = await this.ds.query(
      `SELECT e.id FROM extensions e WHERE ${where} ORDER BY e.id LIMIT ${p.add(limit)} OFFSET ${p.add(offset)}`,
      p.values,
    );
    return rows.map((r) => r.id);
  }

  /**
   * The last ended bindings of each extension (newest first, each binding once, at most
   * LAST_ENDED_PER_EXTENSION): from history, plus bindings past expiry the sweeper has not
   * recorded yet.
   */
  async lastEnded(extensionIds: readonly number[]): Promise<DialectRow[]> {
    if (extensionIds.length === 0) return [];
    return this.rows(
      `WITH ended AS (
         SELECT ${ROW_SELECT('h', 'h.registration_id')},
                ${S('h.ended_at')} AS "endedAtS", h.end_reason AS "endReason"
           FROM registration_history h ${EXT_JOIN('h')} WHERE e.id = ANY($1::int[])
         UNION ALL
         SELECT ${ROW_SELECT('r', 'r.id')}, ${S('r.expires_at')}, 'expired'
           FROM registrations r ${EXT_JOIN('r')}
          WHERE e.id = ANY($1::int[]) AND r.ended_at IS NULL AND r.expires_at <= now()
       ), latest AS (
         SELECT DISTINCT ON ("id") * FROM ended ORDER BY "id", "endedAtS" DESC
       ), ranked AS (
         SELECT *, row_number() OVER (PARTITION BY "extensionId" ORDER BY "endedAtS" DESC, "id" DESC) AS n
           FROM latest
       )
       SELECT * FROM ranked WHERE n <= $2 ORDER BY "extensionId", "endedAtS" DESC, "id" DESC`,
      [extensionIds, LAST_ENDED_PER_EXTENSION],
    );
  }

  /** An account's ended binding segments, newest first. */
  async history(q: HistoryQuery): Promise<HistoryRow[]> {
    const p = new Params();
    const where = [`h.account_id = ${p.add(q.accountId)}`];
    if (q.username !== undefined) where.push(`h.username_key = lower(${p.add(q.username)})`);
    if (q.contactIp !== undefined)
      where.push(`reg_ip_key(h.contact_ip) = reg_ip_key(${p.add(q.contactIp)})`);
    if (q.reason !== undefined) where.push(`h.end_reason = ${p.add(q.reason)}`);
    if (q.endedFromS !== undefined)
      where.push(`h.ended_at >= to_timestamp(${p.add(q.endedFromS)})`);
    if (q.endedToS !== undefined) where.push(`h.ended_at <= to_timestamp(${p.add(q.endedToS)})`);
    if (q.after)
      where.push(
        `(h.ended_at, h.id) < (${p.add(q.after[0])}::timestamptz, ${p.add(q.after[1])}::bigint)`,
      );
    const rows: (HistoryRow & { historyId: string })[] = await this.ds.query(
      `SELECT ${ROW_SELECT('h', 'h.registration_id')},
              ${S('h.ended_at')} AS "endedAtS", h.end_reason AS "endReason",
              h.id::text AS "historyId",
              to_char(h.ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS "endedAtText"
         FROM registration_history h ${EXT_JOIN('h')}
        WHERE ${where.join(' AND ')}
        ORDER BY h.ended_at DESC, h.id DESC LIMIT ${p.add(q.limit)}`,
      p.values,
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  /**
   * Where selected bindings are held, for flush commands. A proxy drops a whole AOR at once
   * (Kamailio's reg_flush and FreeSWITCH's flush_inbound_reg take realm and user), so every live
   * binding of the same AOR on the same proxy kind (and switch) is a target too: ending only
   * the selected ones would leave bindings in the store that the proxy no longer holds.
   */
  async flushTargetsOfBindings(ids: readonly number[]): Promise<(FlushTarget & { id: number })[]> {
    const rows: (FlushTarget & { id: string })[] = await this.ds.query(
      `WITH selected AS (
         SELECT DISTINCT realm_key, username_key, origin, fs_hostname, fs_profile
           FROM registrations r WHERE r.id = ANY($1::bigint[]) AND ${LIVE}
       )
       SELECT r.id, r.origin, r.realm, r.username, r.fs_profile, r.fs_hostname
         FROM registrations r JOIN selected s
           ON s.realm_key = r.realm_key AND s.username_key = r.username_key AND s.origin = r.origin
          AND (s.origin <> 'freeswitch' OR (s.fs_hostname IS NOT DISTINCT FROM r.fs_hostname
                                            AND s.fs_profile IS NOT DISTINCT FROM r.fs_profile))
        WHERE ${LIVE}
        ORDER BY r.id`,
      [ids],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  /** The live bindings among `ids`, each with what names it to its proxy (one-contact flush). */
  async flushTargetsOfContacts(ids: readonly number[]): Promise<ContactFlushTarget[]> {
    const rows: (Omit<ContactFlushTarget, 'id'> & { id: string })[] = await this.ds.query(
      `SELECT r.id, r.origin, r.realm, r.username, r.fs_profile, r.fs_hostname,
              r.call_id, r.contact_uri
         FROM registrations r WHERE r.id = ANY($1::bigint[]) AND ${LIVE} ORDER BY r.id`,
      [ids],
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  private async extensionIds(
    scope: AccountScope,
    condition: (p: Params) => string,
  ): Promise<number[]> {
    const p = new Params();
    const where = `${condition(p)} AND ${scopeSql(scope, p, 'e.account_id')}`;
    const rows: { id: number }[] = await this.ds.query(
      `SELECT e.id FROM extensions e WHERE ${where} ORDER BY e.id`,
      p.values,
    );
    return rows.map((r) => r.id);
  }

  private async rows(sql: string, params: unknown[]): Promise<DialectRow[]> {
    const rows: DialectRow[] = await this.ds.query(sql, params);
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }
}
