// Writes binding changes to the outbox (registration_changes) inside the caller's statement or
// transaction. The advisory lock serialises outbox writers until they commit, so sequence order
// is commit order: readers that follow `seq > last` never skip a change committed late.
import type { QueryRunner } from 'typeorm';
import { BindingChange, toKazooItem } from '@app/registrations';

export const OUTBOX_LOCK = 7_406_313;

export interface ChangeFeedOptions {
  enabled: boolean;
  /** Refreshes are frequent and rarely interesting: off by default. */
  refreshes: boolean;
}

/** An account's name and realm as a change event shows them (null: no such key). */
export interface AccountKeys {
  name: string | null;
  realm: string | null;
}

/**
 * The accounts' name and realm as the last outbox statement found them in the table: the
 * `registration` JSON is built with them in Node, and the statement checks them once per account
 * of the batch, rebuilding a row's keys in SQL only for an account that no longer matches (a
 * rename since) or was never seen. A consumer sees the table's values at the write either way.
 */
export class AccountKeysCache {
  private readonly byId = new Map<string, AccountKeys>();

  get(id: string): AccountKeys | undefined {
    return this.byId.get(id);
  }

  /** What a statement read for the accounts it did not find as sent (OUTBOX_ACCOUNTS_READ). */
  learn(read: readonly [string, string | null, string | null][] | null | undefined): void {
    for (const [id, name, realm] of read ?? []) this.byId.set(id, { name, realm });
  }
}

/** One outbox row as JSON for outboxCtes. */
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
  /** The Kazoo item, with the account's keys as `accounts` below says them. */
  registration: Record<string, unknown>;
}

/** The account keys an outbox's rows were built with: one per account id of its rows. */
export type OutboxAccount = { id: string } & AccountKeys;

export interface OutboxRows {
  records: OutboxRecord[];
  accounts: OutboxAccount[];
}

const UNKNOWN: AccountKeys = { name: null, realm: null };

/** The changes the feed keeps, as outbox rows (none when the feed is off). */
export function outboxRecords(
  changes: readonly BindingChange[],
  opts: ChangeFeedOptions,
  known?: AccountKeysCache,
): OutboxRows {
  const rows: OutboxRows = { records: [], accounts: [] };
  if (!opts.enabled) return rows;
  const used = new Map<string, AccountKeys>();
  for (const c of changes) {
    if (c.change === 'refreshed' && !opts.refreshes) continue;
    const b = c.binding;
    let account: AccountKeys | undefined;
    if (b.accountId != null) {
      account = used.get(b.accountId);
      if (!account) used.set(b.accountId, (account = known?.get(b.accountId) ?? UNKNOWN));
    }
    rows.records.push({
      ord: rows.records.length,
      change: c.change,
      occurred_us: c.occurredUs,
      account_id: b.accountId ?? null,
      realm: b.realm,
      username: b.username,
      registration_id: b.id ?? null,
      realm_key: b.realmKey,
      username_key: b.usernameKey,
      contact_uri: b.contactUri,
      registration: toKazooItem(b, account),
    });
  }
  for (const [id, a] of used) rows.accounts.push({ id, ...a });
  return rows;
}

const RECORDSET = `ord int, change text, occurred_us bigint, account_id text, realm text,
  username text, registration_id bigint, realm_key text, username_key text, contact_uri text,
  registration jsonb`;

/**
 * CTEs `outbox_accounts`, `outbox_lock` and `outbox` inserting the OutboxRecords of `json` (a SQL
 * expression) in their order, `accounts` (a SQL expression) being their OutboxAccounts. `after`:
 * a CTE to finish before the lock is taken (so that the lock is held only from the end of the
 * caller's writes to its commit, and never while waiting for a row lock); `ids`: a CTE of (id,
 * realm_key, username_key, contact_uri) giving new bindings their id.
 *
 * Each account of the batch is read once, at the statement's snapshot as the per-row join it
 * replaces was: a row whose account says what Node put in its `registration` (the common case)
 * is inserted as sent; the others get the keys the table holds now (jsonb_strip_nulls: no key
 * for a NULL), which costs a jsonb rebuild per row, as every row did before.
 */
export function outboxCtes(
  json: string,
  accounts: string,
  o: { after?: string; ids?: string } = {},
): string {
  const id = o.ids ? 'COALESCE(c.registration_id, i.id)' : 'c.registration_id';
  const joinIds = o.ids
    ? `LEFT JOIN ${o.ids} i ON c.registration_id IS NULL AND i.realm_key = c.realm_key
                           AND i.username_key = c.username_key AND i.contact_uri = c.contact_uri`
    : '';
  return `outbox_accounts AS MATERIALIZED (
    SELECT s.id, (a.name, a.realm) IS NOT DISTINCT FROM (s.name, s.realm) AS as_sent,
           a.name, a.realm,
           jsonb_strip_nulls(jsonb_build_object('account_name', a.name, 'account_realm', a.realm)) AS keys
      FROM json_to_recordset(${accounts}) AS s(id text, name text, realm text)
      LEFT JOIN accounts a ON a.id = s.id
  ), outbox_lock AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(${OUTBOX_LOCK}) ${o.after ? `FROM ${o.after}` : ''}
  ), outbox AS (
    INSERT INTO registration_changes (change, occurred_at, account_id, realm, username, registration_id, registration)
    SELECT c.change, to_timestamp(c.occurred_us / 1e6), c.account_id, c.realm, c.username, ${id},
           CASE WHEN x.as_sent IS NOT FALSE THEN c.registration
                ELSE (c.registration - 'account_name' - 'account_realm') || x.keys END
      FROM json_to_recordset(${json}) AS c(${RECORDSET})
     CROSS JOIN outbox_lock
      ${joinIds}
      LEFT JOIN outbox_accounts x ON x.id = c.account_id
     ORDER BY c.ord
    RETURNING seq
  )`;
}

/**
 * The accounts the outbox did not find as sent, as [id, name, realm] for AccountKeysCache.learn
 * (NULL when all were).
 */
export const OUTBOX_ACCOUNTS_READ = `(SELECT json_agg(json_build_array(id, name, realm))
     FROM outbox_accounts WHERE NOT as_sent)`;

/** Records the changes in the caller's transaction (one statement); returns how many. */
export async function recordChanges(
  q: QueryRunner,
  changes: readonly BindingChange[],
  opts: ChangeFeedOptions,
  known?: AccountKeysCache,
): Promise<number> {
  const { records, accounts } = outboxRecords(changes, opts, known);
  if (records.length === 0) return 0;
  const [row] = await q.query(
    `WITH ${outboxCtes('$1::json', '$2::json')}
     SELECT (SELECT count(*) FROM outbox) AS n, ${OUTBOX_ACCOUNTS_READ} AS "accountsRead"`,
    [JSON.stringify(records), JSON.stringify(accounts)],
  );
  known?.learn(row.accountsRead);
  return records.length;
}
