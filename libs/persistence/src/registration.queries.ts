// Reads of live bindings for the APIs. Live means not ended and not past expiry, whatever the
// sweeper has done yet. Lists are in a stable order (username, realm, contact) that matches the
// index registrations_live_account, so a page is an index range scan and start_key paging
// neither loses nor repeats rows. An account's count reads counters, not its bindings.
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { DataSource } from 'typeorm';
import { Binding, GREGORIAN_OFFSET_S } from '@app/registrations';
import { bindingSelect } from './binding-columns';
import { ListSort, sortSql } from './binding-sort';

/**
 * A live binding as read (bindingSelect: the Binding's keys, times in µs, NULL where unknown)
 * with its account's name and realm: what toKazooItem takes as it is, with no mapping pass.
 */
export type LiveRow = {
  [K in keyof Binding]-?: undefined extends Binding[K]
    ? Exclude<Binding[K], undefined> | null
    : Binding[K];
} & {
  id: number;
  accountName: string | null;
  accountRealm: string | null;
};

/** The select-list of a LiveRow over `registrations r LEFT JOIN accounts a`. */
export const LIVE_ROW_SELECT = `${bindingSelect('r')}, a.name AS "accountName", a.realm AS "accountRealm"`;

/** Fields that can be filtered on, by the name the APIs show, as SQL over `r` and `a`. */
export const FILTERABLE: Readonly<Record<string, string>> = {
  account_name: 'a.name',
  account_realm: 'a.realm',
  authorizing_id: 'r.authorizing_id',
  authorizing_type: 'r.authorizing_type',
  call_id: 'r.call_id',
  contact: `translate(r.original_contact, '<>', '')`,
  contact_ip: 'r.contact_ip',
  contact_port: 'r.contact_port::text',
  event_timestamp: `(r.event_us / 1000000 + ${GREGORIAN_OFFSET_S})::text`,
  expires: 'r.expires::text',
  from_host: 'r.from_host',
  from_user: 'r.from_user',
  network_ip: 'r.network_ip',
  network_port: 'r.network_port::text',
  original_contact: 'r.original_contact',
  owner_id: 'r.owner_id',
  proxy_ip: 'r.proxy_ip',
  proxy_port: 'r.proxy_port::text',
  realm: 'r.realm_key',
  suppress_unregister_notify: 'r.suppress_unregister_notify::text',
  to_host: 'r.to_host',
  to_user: 'r.to_user',
  user_agent: 'r.user_agent',
  username: 'r.username_key',
  proxy_path: 'r.proxy_path',
  proxy_protocol: 'r.proxy_protocol',
  registrar_node: 'r.registrar_node',
  source_ip: 'r.source_ip',
  source_port: 'r.source_port::text',
  initial_registration: `(floor(extract(epoch from r.first_registered_at))::bigint + ${GREGORIAN_OFFSET_S})::text`,
  last_registration: `(floor(extract(epoch from r.last_registered_at))::bigint + ${GREGORIAN_OFFSET_S})::text`,
  // Not an item key: the phone's MAC (12 lower-case hex), derived at ingest (libs/registrations mac.ts).
  mac: 'r.mac',
};
/** Fields compared without case (the binding key's realm and username). */
const CASELESS = new Set(['realm', 'username']);

export interface ListQuery {
  /** One account's bindings; undefined: every binding of the system (Kazoo's realm "all"). */
  accountId?: string;
  /** Rows after this (username_key, realm_key, contact_uri). */
  after?: [string, string, string];
  /** At most this many rows (omit for all). */
  limit?: number;
  /** field name (a FILTERABLE key) → exact value. */
  filters?: Record<string, string>;
  /**
   * Another order than (username, realm, contact), paged by its own keyset (binding-sort.ts;
   * `after` is then not used). The console's list only: Kazoo's list never sets it.
   */
  sort?: ListSort;
  /**
   * The console's partial matches (Kazoo's list has exact filters only): users whose name
   * starts with, user agents containing, the text given (both without case). Not index-backed:
   * a scan of the account's live bindings at worst (docs/console.md).
   */
  search?: { usernamePrefix?: string; userAgentContains?: string };
}

export interface FlushTarget {
  origin: 'kazoo' | 'freeswitch';
  realm: string;
  username: string;
  fs_profile: string | null;
  fs_hostname: string | null;
}

const LIVE = 'r.ended_at IS NULL AND r.expires_at > now()';

/** Statement names by SQL text, hashed once (not per request). Filters make a bounded set. */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (name === undefined) {
    if (statementNames.size >= 1000) statementNames.clear();
    name = `q${createHash('md5').update(text).digest('hex').slice(0, 16)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** A row of listLivePage: a binding's row version (and its account's), and what pages it. */
export interface LivePageRow {
  id: number;
  rowVersion: string;
  accountVersion: string | null;
  eventUs: number;
  expires: number;
  usernameKey: string;
  realmKey: string;
  contactUri: string;
  /** With ListQuery.sort: the row's sort key as text, where a next page starts after it. */
  sortKey?: string[];
}

export type VersionedLiveRow = LiveRow & { rowVersion: string; accountVersion: string | null };

const KAZOO_ORDER = 'r.username_key, r.realm_key, r.contact_uri';

function listWhere(q: ListQuery): {
  where: string;
  params: unknown[];
  limit: string;
  orderBy: string;
  sortSelect: string;
} {
  const params: unknown[] = [];
  const where = [LIVE];
  if (q.accountId !== undefined) {
    params.push(q.accountId);
    where.unshift(`r.account_id = $${params.length}`);
  }
  let orderBy = KAZOO_ORDER;
  let sortSelect = '';
  if (q.sort) {
    const s = sortSql(q.sort, (v) => {
      params.push(v);
      return `$${params.length}`;
    });
    if (s.where) where.push(s.where);
    orderBy = s.orderBy;
    sortSelect = `, ${s.select}`;
  } else if (q.after) {
    params.push(...q.after);
    const n = params.length;
    where.push(`(r.username_key, r.realm_key, r.contact_uri) > ($${n - 2}, $${n - 1}, $${n})`);
  }
  for (const [field, value] of Object.entries(q.filters ?? {})) {
    const expr = FILTERABLE[field];
    if (!expr) throw new Error(`not filterable: ${field}`);
    params.push(CASELESS.has(field) ? value.toLowerCase() : value);
    where.push(`${expr} = $${params.length}`);
  }
  if (q.search?.usernamePrefix) {
    params.push(q.search.usernamePrefix.toLowerCase());
    where.push(`starts_with(r.username_key, $${params.length})`);
  }
  if (q.search?.userAgentContains) {
    params.push(q.search.userAgentContains.toLowerCase());
    where.push(`strpos(lower(r.user_agent), $${params.length}) > 0`);
  }
  let limit = '';
  if (q.limit !== undefined) {
    params.push(q.limit);
    limit = `LIMIT $${params.length}`;
  }
  return { where: where.join(' AND '), params, limit, orderBy, sortSelect };
}

/** listLivePage's statement (exported for bench/console's EXPLAIN of every sort). */
export function livePageStatement(q: ListQuery): { text: string; values: unknown[] } {
  const { where, params, limit, orderBy, sortSelect } = listWhere(q);
  return {
    text: `SELECT r.id::float8 AS id, r.xmin::text AS "rowVersion", a.xmin::text AS "accountVersion",
              r.event_us::float8 AS "eventUs", r.expires,
              r.username_key AS "usernameKey", r.realm_key AS "realmKey", r.contact_uri AS "contactUri"
              ${sortSelect}
         FROM registrations r LEFT JOIN accounts a ON a.id = r.account_id
        WHERE ${where}
        ORDER BY ${orderBy} ${limit}`,
    values: params,
  };
}

@Injectable()
export class RegistrationQueries {
  constructor(private readonly ds: DataSource) {}

  /**
   * The hot API reads run as named prepared statements on the pool (parsed and planned once
   * per connection): TypeORM's query() sends an unnamed statement every time, which bench/api
   * measured at 150–250 µs more Postgres CPU per request.
   */
  private async prepared<T>(text: string, values: unknown[]): Promise<T[]> {
    const pool = (this.ds.driver as PostgresDriver).master as Pool;
    const result = await pool.query({ name: statementName(text), text, values });
    return result.rows as T[];
  }

  async listLive(q: ListQuery): Promise<LiveRow[]> {
    const { where, params, limit, orderBy } = listWhere(q);
    return this.prepared<LiveRow>(
      `SELECT ${LIVE_ROW_SELECT}
         FROM registrations r LEFT JOIN accounts a ON a.id = r.account_id
        WHERE ${where}
        ORDER BY ${orderBy} ${limit}`,
      params,
    );
  }

  /**
   * listLive's page without the bindings' content: what identifies each row version (the
   * binding's and its account's xmin) and what pages it. The items come from a cache keyed by
   * those versions (apps/api/src/kazoo/kazoo-list.service.ts), and from liveRowsById for the rest.
   */
  async listLivePage(q: ListQuery): Promise<LivePageRow[]> {
    const { text, values } = livePageStatement(q);
    return this.prepared<LivePageRow>(text, values);
  }

  /** These bindings as they are now (whether live or not), with their row versions. */
  async liveRowsById(ids: number[]): Promise<VersionedLiveRow[]> {
    return this.prepared<VersionedLiveRow>(
      `SELECT ${LIVE_ROW_SELECT}, r.xmin::text AS "rowVersion", a.xmin::text AS "accountVersion"
         FROM registrations r LEFT JOIN accounts a ON a.id = r.account_id
        WHERE r.id = ANY($1::bigint[])`,
      [ids],
    );
  }

  /** Live bindings of one account, or of all accounts when accountId is undefined. */
  async countLive(accountId?: string): Promise<number> {
    // An account's: its not-ended bindings (counted by triggers, migration 1796200000000) but
    // those past expiry that the sweeper has not ended yet, found through their sweep bound
    // (sweep_at ≤ expires_at, migration 1796317000000). Every account's: the same over all
    // accounts, plus the live bindings no account owns (counted from the rows, usually few).
    const [row] = accountId
      ? await this.prepared<{ n: number }>(
          `SELECT ((SELECT coalesce(sum(c.n), 0) FROM account_live_counts c WHERE c.account_id = $1)
                 - (SELECT count(*) FROM registrations r
                     WHERE r.account_id = $1 AND r.ended_at IS NULL AND r.sweep_at <= now()
                       AND r.expires_at <= now()))::int AS n`,
          [accountId],
        )
      : await this.prepared<{ n: number }>(
          `SELECT ((SELECT coalesce(sum(c.n), 0) FROM account_live_counts c)
                 + (SELECT count(*) FROM registrations r WHERE r.account_id IS NULL AND ${LIVE})
                 - (SELECT count(*) FROM registrations r
                     WHERE r.account_id IS NOT NULL AND r.ended_at IS NULL AND r.sweep_at <= now()
                       AND r.expires_at <= now()))::int AS n`,
          [],
        );
    return row.n;
  }

  /** Where the account's (or one user's) live bindings are held, to address flush commands. */
  async flushTargets(accountId: string, username?: string): Promise<FlushTarget[]> {
    return this.ds.query(
      `SELECT DISTINCT r.origin, r.realm, r.username, r.fs_profile, r.fs_hostname
         FROM registrations r
        WHERE r.account_id = $1 AND ($2::text IS NULL OR r.username_key = lower($2)) AND ${LIVE}`,
      [accountId, username ?? null],
    );
  }

  /** Whether the account has ever had this SIP username (an extension was assigned). */
  async hasUsername(accountId: string, username: string): Promise<boolean> {
    const rows = await this.ds.query(
      `SELECT 1 FROM extensions WHERE account_id = $1 AND username_key = lower($2) LIMIT 1`,
      [accountId, username],
    );
    return rows.length > 0;
  }
  /**
   * kapi_registration's reg_query, as ecallmgr_registrar:build_query_spec/2 selects: one AOR's
   * live bindings (Realm + Username: the unique index's prefix), a realm's (the bindings' realm
   * or their account's realm), or, for realm "all", every live binding. Keys as the domain
   * builds them (realm and username lower-cased in JS, as the ingest does).
   */
  async regQuery(q: RegQuerySelector): Promise<LiveRow[]> {
    const { where, params } = regQueryWhere(q);
    return this.prepared<LiveRow>(
      `SELECT ${LIVE_ROW_SELECT}
         FROM registrations r LEFT JOIN accounts a ON a.id = r.account_id
        WHERE ${where}
        ORDER BY r.username_key, r.realm_key, r.contact_uri`,
      params,
    );
  }

  /** reg_query with Count-Only: how many bindings regQuery would return. */
  async regQueryCount(q: RegQuerySelector): Promise<number> {
    const { where, params } = regQueryWhere(q);
    const [row] = await this.prepared<{ n: number }>(
      `SELECT count(*)::int AS n
         FROM registrations r LEFT JOIN accounts a ON a.id = r.account_id
        WHERE ${where}`,
      params,
    );
    return row.n;
  }
}

/** What a reg_query selects: realm undefined means Kazoo's realm "all". */
export interface RegQuerySelector {
  realmKey?: string;
  usernameKey?: string;
}

function regQueryWhere(q: RegQuerySelector): { where: string; params: unknown[] } {
  if (q.realmKey === undefined) return { where: LIVE, params: [] };
  if (q.usernameKey !== undefined)
    return {
      where: `r.realm_key = $1 AND r.username_key = $2 AND ${LIVE}`,
      params: [q.realmKey, q.usernameKey],
    };
  return {
    where: `(r.realm_key = $1 OR r.account_id IN (SELECT id FROM accounts WHERE realm_key = $1))
            AND ${LIVE}`,
    params: [q.realmKey],
  };
}
