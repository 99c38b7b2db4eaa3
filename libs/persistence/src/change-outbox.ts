// Writes binding changes to the outbox (registration_changes) inside the caller's statement or
// transaction. The advisory lock serialises outbox writers until they commit, so sequence order
// is commit order: readers that follow `seq > last` never skip a change committed late. Each
// row's Kazoo item is kept as the JSON text it was written as (`item json`): no one queries
// inside it, and readers pass the text on (ITEM_TEXT) or parse it in Node (ITEM_JSON).
import type { QueryRunner } from 'typeorm';
import { BindingChange, toKazooItem } from '@app/registrations';

export const OUTBOX_LOCK = 7_406_313;

export interface ChangeFeedOptions {
  enabled: boolean;
  /** Refreshes are frequent and rarely interesting: off by default. */
  refreshes: boolean;
}

/** One outbox row as JSON for outboxCtes (the account's name and realm are joined in SQL). */
export interface OutboxRecord {
  ord: number;
  change: string;
  occurred_us: number;
  account_id: string | null;
  realm: string;
  username: string;
  /** Null for a binding inserted by the same statement: found by its key in `ids`. */
  registration_id: number | null;
  realm_key: string;
  username_key: string;
  contact_uri: string;
  registration: Record<string, unknown>;
}

/** Whether the feed keeps this change (an outbox row). */
export function feedKeeps(c: BindingChange, opts: ChangeFeedOptions): boolean {
  return opts.enabled && (c.change !== 'refreshed' || opts.refreshes);
}

/** The changes the feed keeps, as outbox rows (none when the feed is off). */
export function outboxRecords(
  changes: readonly BindingChange[],
  opts: ChangeFeedOptions,
): OutboxRecord[] {
  const records: OutboxRecord[] = [];
  for (const c of changes) {
    if (!feedKeeps(c, opts)) continue;
    const b = c.binding;
    records.push({
      ord: records.length,
      change: c.change,
      occurred_us: c.occurredUs,
      account_id: b.accountId ?? null,
      realm: b.realm,
      username: b.username,
      registration_id: b.id ?? null,
      realm_key: b.realmKey,
      username_key: b.usernameKey,
      contact_uri: b.contactUri,
      registration: toKazooItem(b),
    });
  }
  return records;
}

// `registration json`, not jsonb: the item's text goes to `item` as it came (json validates it;
// jsonb parsed it into its binary form, which the readers printed back to text: ~10 ms of
// Postgres CPU per 1,000 first registrations for nothing, migration 1796720000000).
const RECORDSET = `ord int, change text, occurred_us bigint, account_id text, realm text,
  username text, registration_id bigint, realm_key text, username_key text, contact_uri text,
  registration json`;

/**
 * CTEs `outbox_lock` and `outbox` inserting the OutboxRecords of `json` (a SQL expression) in
 * their order. `after`: a CTE to finish before the lock is taken (so that the lock is held only
 * from the end of the caller's writes to its commit, and never while waiting for a row lock);
 * `ids`: a CTE of (id, realm_key, username_key, contact_uri) giving new bindings their id.
 *
 * The account's name and realm, as the statement reads them, go to their own columns: merged
 * into the item here they cost a rebuild of every row's item (3–7 ms of Postgres CPU per 1,000,
 * docs/benchmarks.md); the readers put them into the event (EVENT_BODY). The item goes to
 * `item` (json); rows written before migration 1796720000000 hold it in `registration` (jsonb):
 * readers take ITEM_TEXT or ITEM_JSON.
 */
export function outboxCtes(json: string, o: { after?: string; ids?: string } = {}): string {
  const id = o.ids ? 'COALESCE(c.registration_id, i.id)' : 'c.registration_id';
  const joinIds = o.ids
    ? `LEFT JOIN ${o.ids} i ON c.registration_id IS NULL AND i.realm_key = c.realm_key
                           AND i.username_key = c.username_key AND i.contact_uri = c.contact_uri`
    : '';
  return `outbox_lock AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(${OUTBOX_LOCK}) ${o.after ? `FROM ${o.after}` : ''}
  ), outbox AS (
    INSERT INTO registration_changes (change, occurred_at, account_id, realm, username, registration_id,
                                      item, account_name, account_realm)
    SELECT c.change, to_timestamp(c.occurred_us / 1e6), c.account_id, c.realm, c.username, ${id},
           c.registration, a.name, a.realm
      FROM json_to_recordset(${json}) AS c(${RECORDSET})
     CROSS JOIN outbox_lock
      ${joinIds}
      LEFT JOIN accounts a ON a.id = c.account_id
     ORDER BY c.ord
    RETURNING seq
  )`;
}

/**
 * A stored change's Kazoo item as JSON text: `item` as written, or, for a row written before
 * migration 1796720000000, the jsonb `registration` printed (as the relay sent it then).
 */
export const ITEM_TEXT = 'COALESCE(item::text, registration::text)';
/** The same as `json` (the driver parses it as it parsed the jsonb). */
export const ITEM_JSON = 'COALESCE(item, registration::json)';

/**
 * A change event's body, {seq, change, occurred_at, account_id, registration}, as Postgres prints
 * it for the relay (an expression over a registration_changes row): byte for byte what JSON.stringify of those keys with the stored item spliced in printed
 * when node built it (test/changes/relayed-bytes.e2e-spec.ts holds the two side by side), at a
 * fraction of the ingest's CPU:
 * - to_json(text) escapes as JSON.stringify does (", \, \b \f \n \r \t, other controls \u00xx);
 * - occurred_at as Date#toISOString printed pg's Date: UTC, milliseconds (pg's parser truncated
 *   the microseconds, as to_char's MS does), Z;
 * - registration: the stored item's text as it is (ITEM_TEXT), with the account's name and realm
 *   it was written with (their columns; no key for a NULL, concat skips it) first; rows written before migration
 *   1796700000000 have them inside the item already, and NULL columns. right(…, -1) drops the
 *   item's `{` without counting the characters of the whole text as substr does.
 */
export const EVENT_BODY = `'{"seq":' || seq
  || ',"change":' || to_json(change)
  || ',"occurred_at":"' || to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  || '","account_id":' || coalesce(to_json(account_id)::text, 'null')
  || ',"registration":{'
  || concat('"account_name":' || to_json(account_name) || ',',
            '"account_realm":' || to_json(account_realm) || ',')
  || right(${ITEM_TEXT}, -1) || '}'`;

/** One change as the relay reads it: the parts of its routing key, and the body (EVENT_BODY). */
export interface RelayedChange {
  seq: string;
  change: string;
  account_id: string | null;
  realm: string;
  username: string;
  body: string;
}

/** The relay's read: the changes after seq $1, in seq order, at most $2 (RelayedChange rows). */
export const RELAY_READ_SQL = `SELECT seq, change, account_id, realm, username, ${EVENT_BODY} AS body
  FROM registration_changes WHERE seq > $1 ORDER BY seq LIMIT $2`;

/** Records the changes in the caller's transaction (one statement); returns how many. */
export async function recordChanges(
  q: QueryRunner,
  changes: readonly BindingChange[],
  opts: ChangeFeedOptions,
): Promise<number> {
  const records = outboxRecords(changes, opts);
  if (records.length === 0) return 0;
  await q.query(`WITH ${outboxCtes('$1::json')} SELECT count(*) FROM outbox`, [
    JSON.stringify(records),
  ]);
  return records.length;
}
