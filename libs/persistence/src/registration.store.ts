// The registration store: the only code that writes bindings. One transaction per batch:
// read the touched AORs' rows, let the domain plan the batch, write the plan with one multi-row
// statement (bindings, history, extensions) that touches only rows nobody changed since the read
// (optimistic; on a conflict the batch is read again with row locks), commit.
import { Inject, Injectable, Optional } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DataSource, QueryRunner } from 'typeorm';
import { ChangeFeedOptions, recordChanges } from './change-outbox';
import { WriteConflict } from './transient-errors';
import {
  AccountUpsert,
  aorKey,
  Binding,
  BindingChange,
  bindingKey,
  EndReason,
  planBatch,
  RegistrationEvent,
} from '@app/registrations';
import {
  BINDING_RECORDSET,
  bindingRecordsetSelect,
  bindingSelect,
  COLUMN_NAMES,
  fromBindingRow,
  bindingUpdateSet,
} from './binding-columns';

/** Optimistic attempts before a batch reads with row locks. */
const OPTIMISTIC_ATTEMPTS = 1;
/** Attempts in all (only a new key inserted by someone else can conflict under row locks). */
const MAX_ATTEMPTS = 6;

export interface BatchResult {
  written: number;
  ended: number;
  stale: number;
  duplicates: number;
  unassigned: number;
  changes: BindingChange[];
}

/** Which live bindings an end (flush) applies to. */
export interface BindingSelector {
  accountId?: string;
  realm?: string;
  username?: string;
  ids?: number[];
}

const REALM_ACCOUNTS = `(SELECT json_object_agg(realm_key, id) FROM (
    SELECT DISTINCT ON (realm_key) realm_key, id FROM accounts
     WHERE realm_key = ANY($2::text[]) ORDER BY realm_key, created_at) owners) AS "realmAccounts"`;
/**
 * $1: the batch's AORs as JSON [{realm_key, username_key}]; $2: realm keys needing an account.
 * One row per stored binding of those AORs (with its xmin as rowVersion), and one row with a
 * NULL id per AOR that has none; every row carries the realm → account map for $2.
 */
const PREREAD_SQL = `
  SELECT ${bindingSelect('l')}, l.xmin::text AS "rowVersion",
         k.realm_key AS "aorRealm", k.username_key AS "aorUser", ${REALM_ACCOUNTS}
    FROM json_to_recordset($1::json) AS k(realm_key text, username_key text)
    LEFT JOIN registrations l USING (realm_key, username_key)`;
/** The same, locking the rows read (FOR UPDATE cannot apply to an outer join's nullable side). */
const PREREAD_LOCKING_SQL = `
  WITH aor AS MATERIALIZED (
    SELECT * FROM json_to_recordset($1::json) AS k(realm_key text, username_key text)
  ), stored AS MATERIALIZED (
    SELECT r.*, r.xmin::text AS row_version FROM registrations r JOIN aor USING (realm_key, username_key)
     ORDER BY r.id FOR UPDATE OF r
  )
  SELECT ${bindingSelect('l')}, l.row_version AS "rowVersion",
         aor.realm_key AS "aorRealm", aor.username_key AS "aorUser", ${REALM_ACCOUNTS}
    FROM aor LEFT JOIN stored l USING (realm_key, username_key)`;

/**
 * $1: bindings to write (stored ones with their id and the rowVersion read); $2: ended segments
 * for history; $3: bindings of AORs seen first (extensions). A stored row is updated only if
 * nobody changed it since it was read, a new one inserted only if nobody inserted it meanwhile:
 * the caller compares the rows returned with the rows sent.
 */
const WRITE_SQL = `
  WITH t AS MATERIALIZED (
    SELECT * FROM json_to_recordset($1::json) AS t(id bigint, "rowVersion" text, ${BINDING_RECORDSET})
  ), updated AS (
    UPDATE registrations r SET ${bindingUpdateSet('t')} FROM t
     WHERE t.id IS NOT NULL AND r.id = t.id AND r.xmin = t."rowVersion"::xid
    RETURNING r.id, r.realm_key, r.username_key, r.contact_uri
  ), inserted AS (
    INSERT INTO registrations (${COLUMN_NAMES})
    SELECT ${bindingRecordsetSelect('t')} FROM t WHERE t.id IS NULL
    ON CONFLICT (realm_key, username_key, contact_uri) DO NOTHING
    RETURNING id, realm_key, username_key, contact_uri
  ), upserted AS (
    SELECT * FROM updated UNION ALL SELECT * FROM inserted
  ), history AS (
    INSERT INTO registration_history (registration_id, ${COLUMN_NAMES})
    SELECT u.id, ${bindingRecordsetSelect('h')}
      FROM json_to_recordset($2::json) AS h(${BINDING_RECORDSET})
      JOIN upserted u ON u.realm_key = h."realmKey" AND u.username_key = h."usernameKey"
                     AND u.contact_uri = h."contactUri"
  ), extensions AS (
    INSERT INTO extensions (realm_key, username_key, realm, username, account_id)
    SELECT DISTINCT ON ("realmKey", "usernameKey") "realmKey", "usernameKey", realm, username, "accountId"
      FROM json_to_recordset($3::json) AS x("realmKey" text, "usernameKey" text, realm text, username text, "accountId" text)
    ON CONFLICT (realm_key, username_key) DO NOTHING
  )
  SELECT id::float8 AS id, realm_key AS "realmKey", username_key AS "usernameKey", contact_uri AS "contactUri" FROM upserted`;

const INSERT_HISTORY_FROM = (source: string) => `
  INSERT INTO registration_history (registration_id, ${COLUMN_NAMES})
  SELECT id, ${COLUMN_NAMES} FROM ${source}`;

@Injectable()
export class RegistrationStore {
  /** Accounts as last written, so that unchanged ones cost no write per batch. */
  private readonly accountsSeen = new Map<string, string>();

  private readonly changeFeed: ChangeFeedOptions;

  /** Write conflicts met by applyBatch (each cost one more attempt). */
  writeConflicts = 0;

  constructor(
    private readonly ds: DataSource,
    @Optional() @Inject(APP_CONFIG) config?: AppConfig,
  ) {
    this.changeFeed = {
      enabled: config?.CHANGE_FEED_ENABLED ?? true,
      refreshes: config?.CHANGE_FEED_REFRESHES ?? false,
    };
  }

  async applyBatch(events: readonly RegistrationEvent[]): Promise<BatchResult> {
    if (events.length === 0)
      return { written: 0, ended: 0, stale: 0, duplicates: 0, unassigned: 0, changes: [] };
    // The AORs the batch touches, and the realms of events that name no account.
    const aors = new Map<string, { realm_key: string; username_key: string }>();
    const realmsWithoutAccount = new Set<string>();
    for (const e of events) {
      const realmKey = e.realm.toLowerCase();
      const usernameKey = e.username.toLowerCase();
      const k = aorKey(realmKey, usernameKey);
      if (!aors.has(k)) aors.set(k, { realm_key: realmKey, username_key: usernameKey });
      if (!e.account) realmsWithoutAccount.add(realmKey);
    }
    // Optimistic first: read without row locks, write only rows nobody changed meanwhile (a
    // flush, the sweeper, the other queue). On a conflict the transaction rolls back and the
    // batch is read again, this time locking the rows it read.
    for (let attempt = 0; ; attempt++) {
      try {
        let accountsWritten: AccountUpsert[] = [];
        const result = await this.inTransaction(async (q) => {
          const r = await this.applyOnce(
            q,
            events,
            aors,
            realmsWithoutAccount,
            attempt >= OPTIMISTIC_ATTEMPTS,
          );
          accountsWritten = r.accountsWritten;
          return r.result;
        });
        // Remembered only once committed: a rolled-back batch must write its accounts again.
        for (const a of accountsWritten) this.accountsSeen.set(a.id, JSON.stringify(a));
        return result;
      } catch (e) {
        if (!(e instanceof WriteConflict) || attempt + 1 >= MAX_ATTEMPTS) throw e;
        this.writeConflicts++;
      }
    }
  }

  private async applyOnce(
    q: QueryRunner,
    events: readonly RegistrationEvent[],
    aors: Map<string, { realm_key: string; username_key: string }>,
    realmsWithoutAccount: Set<string>,
    lock: boolean,
  ): Promise<{ result: BatchResult; accountsWritten: AccountUpsert[] }> {
    // One round trip reads every binding of every AOR touched, which covers the events' own
    // keys and the live bindings sharing a Call-ID with them (one index range per AOR), says
    // which AORs are new (for extensions), and which account owns each realm.
    const rows: Record<string, unknown>[] = await q.query(
      lock ? PREREAD_LOCKING_SQL : PREREAD_SQL,
      [JSON.stringify([...aors.values()]), [...realmsWithoutAccount]],
    );
    const current: Binding[] = [];
    const versions = new Map<string, string>();
    const newAors = new Set<string>();
    const accountByRealm = new Map<string, string>(
      Object.entries((rows[0]?.realmAccounts as Record<string, string> | null) ?? {}),
    );
    for (const row of rows) {
      if (row.id === null) {
        newAors.add(aorKey(row.aorRealm as string, row.aorUser as string));
        continue;
      }
      const b = fromBindingRow(row);
      current.push(b);
      versions.set(bindingKey(b), row.rowVersion as string);
    }
    const plan = planBatch({ events, current, accountByRealm });
    if (plan.bindings.length > 0) {
      const extensions = plan.bindings.filter(
        (b) => newAors.size > 0 && newAors.has(aorKey(b.realmKey, b.usernameKey)),
      );
      const written = plan.bindings.map((b) => ({
        ...b,
        rowVersion: b.id === undefined ? undefined : versions.get(bindingKey(b)),
      }));
      const ids: (Pick<Binding, 'realmKey' | 'usernameKey' | 'contactUri'> & { id: number })[] =
        await q.query(WRITE_SQL, [
          JSON.stringify(written),
          plan.history.length > 0 ? JSON.stringify(plan.history) : '[]',
          extensions.length > 0 ? JSON.stringify(extensions) : '[]',
        ]);
      if (ids.length !== written.length)
        throw new WriteConflict(`${written.length - ids.length} bindings changed meanwhile`);
      const idByKey = new Map(ids.map((r) => [bindingKey(r), r.id]));
      for (const ch of plan.changes) ch.binding.id ??= idByKey.get(bindingKey(ch.binding));
    }
    // After the write: claiming a realm's unassigned bindings changes rows, which the write's
    // check would take for another writer's change.
    const accountsWritten = await this.upsertAccounts(q, plan.accounts);
    await recordChanges(q, plan.changes, this.changeFeed);
    return {
      accountsWritten,
      result: {
        written: plan.bindings.length,
        ended: plan.history.length,
        stale: plan.stale,
        duplicates: plan.duplicates,
        unassigned: plan.unassigned,
        changes: plan.changes,
      },
    };
  }

  /**
   * Ends the selected live bindings at once (reason `flushed` for flushes), recording history.
   * The guard time is the start of the current second: proxies stamp events in whole seconds,
   * so a phone that re-registers within the second of the flush is not taken for stale.
   */
  async endBindings(
    selector: BindingSelector,
    reason: EndReason,
    atUs = Date.now() * 1000,
  ): Promise<Binding[]> {
    const where: string[] = ['ended_at IS NULL'];
    const params: unknown[] = [atUs, reason, Math.floor(atUs / 1e6) * 1e6];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (selector.accountId !== undefined) add('account_id = ?', selector.accountId);
    if (selector.realm !== undefined) add('realm_key = ?', selector.realm.toLowerCase());
    if (selector.username !== undefined) add('username_key = ?', selector.username.toLowerCase());
    if (selector.ids !== undefined) add('id = ANY(?::bigint[])', selector.ids);
    if (where.length === 1) throw new Error('endBindings needs a selector');
    return this.inTransaction(async (q) => {
      const rows: Record<string, unknown>[] = await q.query(
        `WITH ended AS (
           UPDATE registrations SET ended_at = to_timestamp($1 / 1e6), end_reason = $2, expires = 0,
                  event_us = GREATEST(event_us, $3::bigint)
            WHERE ${where.join(' AND ')}
            RETURNING *
         ), history AS (${INSERT_HISTORY_FROM('ended')})
         SELECT ${bindingSelect('ended')} FROM ended`,
        params,
      );
      const ended = rows.map(fromBindingRow);
      await recordChanges(
        q,
        ended.map((b) => ({ change: reason, occurredUs: atUs, binding: b })),
        this.changeFeed,
      );
      return ended;
    });
  }

  /** Ends bindings past their expiry (reason expired). Only one instance sweeps at a time. */
  async expireDue(limit = 5000): Promise<Binding[] | undefined> {
    return this.inTransaction(async (q) => {
      const [{ locked }] = await q.query(`SELECT pg_try_advisory_xact_lock(7406312) AS locked`);
      if (!locked) return undefined;
      const rows: Record<string, unknown>[] = await q.query(
        `WITH due AS (
           SELECT id FROM registrations WHERE ended_at IS NULL AND expires_at <= now()
            ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED
         ), ended AS (
           UPDATE registrations r SET ended_at = r.expires_at, end_reason = 'expired', expires = 0
             FROM due WHERE r.id = due.id RETURNING r.*
         ), history AS (${INSERT_HISTORY_FROM('ended')})
         SELECT ${bindingSelect('ended')} FROM ended`,
        [limit],
      );
      const ended = rows.map(fromBindingRow);
      await recordChanges(
        q,
        ended.map((b) => ({
          change: 'expired' as const,
          occurredUs: b.endedUs ?? b.expiresUs,
          binding: b,
        })),
        this.changeFeed,
      );
      return ended;
    });
  }

  /** Drops tombstones (ended rows kept to reject late events) and old history. */
  async prune(
    tombstoneHours: number,
    historyDays: number,
  ): Promise<{ tombstones: number; history: number }> {
    const t = await this.ds.query(
      `DELETE FROM registrations WHERE ended_at < now() - make_interval(hours => $1)`,
      [tombstoneHours],
    );
    const h = await this.ds.query(
      `DELETE FROM registration_history WHERE ended_at < now() - make_interval(days => $1)`,
      [historyDays],
    );
    return { tombstones: Number(t[1] ?? 0), history: Number(h[1] ?? 0) };
  }

  /** Drops published changes older than the retention and remembers how far it dropped. */
  async pruneChanges(retentionDays: number): Promise<number> {
    const [row] = await this.ds.query(
      `WITH gone AS (
         DELETE FROM registration_changes
          WHERE recorded_at < now() - make_interval(days => $1)
            AND seq <= (SELECT published_through FROM registration_changes_relay)
          RETURNING seq
       ), horizon AS (
         UPDATE registration_changes_horizon SET pruned_through = GREATEST(pruned_through, (SELECT max(seq) FROM gone))
          WHERE EXISTS (SELECT 1 FROM gone)
       )
       SELECT count(*)::int AS n FROM gone`,
      [retentionDays],
    );
    return row.n as number;
  }

  async countLive(): Promise<{ assigned: number; unassigned: number }> {
    const [row] = await this.ds.query(
      `SELECT count(*) FILTER (WHERE account_id IS NOT NULL) AS assigned,
              count(*) FILTER (WHERE account_id IS NULL) AS unassigned
         FROM registrations WHERE ended_at IS NULL AND expires_at > now()`,
    );
    return { assigned: Number(row.assigned), unassigned: Number(row.unassigned) };
  }

  private async upsertAccounts(
    q: QueryRunner,
    accounts: AccountUpsert[],
  ): Promise<AccountUpsert[]> {
    const changed = accounts.filter((a) => this.accountsSeen.get(a.id) !== JSON.stringify(a));
    if (changed.length === 0) return [];
    // New accounts (or a new realm) claim the bindings and extensions of their realm that had none.
    await q.query(
      `WITH input AS (SELECT * FROM json_to_recordset($1::json) AS t(id text, name text, realm text)),
       upserted AS (
         INSERT INTO accounts (id, name, realm) SELECT id, name, realm FROM input
         ON CONFLICT (id) DO UPDATE SET name = COALESCE(EXCLUDED.name, accounts.name),
                                        realm = COALESCE(EXCLUDED.realm, accounts.realm), updated_at = now()
          WHERE (accounts.name, accounts.realm) IS DISTINCT FROM
                (COALESCE(EXCLUDED.name, accounts.name), COALESCE(EXCLUDED.realm, accounts.realm))
         RETURNING id, realm_key
       ), claim_bindings AS (
         UPDATE registrations r SET account_id = u.id FROM upserted u
          WHERE r.realm_key = u.realm_key AND r.account_id IS NULL
       )
       UPDATE extensions e SET account_id = u.id FROM upserted u
        WHERE e.realm_key = u.realm_key AND e.account_id IS NULL`,
      [JSON.stringify(changed)],
    );
    return changed;
  }

  private async inTransaction<T>(fn: (q: QueryRunner) => Promise<T>): Promise<T> {
    const q = this.ds.createQueryRunner();
    try {
      await q.connect();
      await q.startTransaction();
      try {
        const result = await fn(q);
        await q.commitTransaction();
        return result;
      } catch (e) {
        if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
        throw e;
      }
    } finally {
      await q.release();
    }
  }
}
