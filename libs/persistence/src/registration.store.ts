// The registration store: the only code that writes bindings. A batch reads the touched AORs'
// rows, lets the domain plan it, and writes the plan with one multi-row statement (bindings,
// history, extensions, change outbox) that touches only rows nobody changed since the read
// (optimistic; on a conflict the batch is read again with row locks, in a transaction).
import { performance } from 'node:perf_hooks';
import { Inject, Injectable, Optional } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DataSource, QueryRunner } from 'typeorm';
import { ChangeFeedOptions, outboxRecords, recordChanges } from './change-outbox';
import { WriteConflict } from './transient-errors';
import { queryPrepared } from './prepared-query';
import type { ReadAhead } from './read-ahead';
import {
  AorRef,
  batchAors,
  partiallyRead,
  readStoredAors,
  StoredAors,
  withFresh,
  WrittenBinding,
} from './stored-aors';
import {
  WRITE_CONFLICT_SQLSTATE,
  WRITE_SQL,
  WRITE_WITH_OUTBOX_SQL,
} from './registration-batch.sql';
import {
  AccountUpsert,
  aorKey,
  BatchPlan,
  Binding,
  BindingChange,
  copyBinding,
  bindingKey,
  EndReason,
  planBatch,
  planReconcile,
  ProxySnapshot,
  RegistrationEvent,
} from '@app/registrations';
import { bindingSelect, COLUMN_NAMES, fromBindingRow } from './binding-columns';

/** Optimistic attempts before a batch reads with row locks. */
const OPTIMISTIC_ATTEMPTS = 1;
/** Attempts in all (only a new key inserted by someone else can conflict under row locks). */
const MAX_ATTEMPTS = 6;
/** Held contacts applied per statement by a reconciliation. */
const RECONCILE_SLICE = 1000;

export interface BatchOptions {
  /** The calling lane's read-ahead: taken for this batch, started for the next one. */
  readAhead?: ReadAhead;
  /** The events likely to come next on that lane, read while this batch is written. */
  next?: () => readonly RegistrationEvent[];
}

/** A row the write statement returns: a binding written, its id and new row version. */
type WriteRow = Pick<Binding, 'realmKey' | 'usernameKey' | 'contactUri'> & {
  id: number;
  rowVersion: string;
};

/** The steps of applyBatch: read the touched AORs, plan in JS, write (and commit). */
export type BatchStep = 'read' | 'plan' | 'write';

export interface BatchResult {
  written: number;
  ended: number;
  stale: number;
  duplicates: number;
  unassigned: number;
  changes: BindingChange[];
}

/** What a reconciliation did (docs/reconciliation.md). */
export interface ReconcileResult {
  /** Held contacts the table lacked (or had ended): registered again. */
  added: number;
  /** Held contacts the table had with another expiry or Call-ID: refreshed. */
  refreshed: number;
  /** Held and already right. */
  kept: number;
  /** Live Kamailio bindings of complete proxies that they no longer hold: ended `reconciled`. */
  ended: number;
  /** Left alone because the ingest wrote them after the reg_sync went out. */
  raced: number;
}

/** Which live bindings an end (flush) applies to. */
export interface BindingSelector {
  accountId?: string;
  realm?: string;
  username?: string;
  /** Only the bindings with this Call-ID (a reg_flush naming one contact of an AOR). */
  callId?: string;
  /** Only the bindings with this contact URI. */
  contactUri?: string;
  ids?: number[];
  /** Only bindings that came from this proxy kind (a Kazoo reg_flush acts on Kamailio's). */
  origin?: Binding['origin'];
}

export interface EndOptions {
  /** When the bindings ended (default: now). */
  atUs?: number;
  /**
   * Events of these bindings at or before this time are stale from now on (event_us is raised
   * to it). Default: the start of atUs's second, since proxies stamp events in whole seconds
   * and a phone that re-registers within the second of the end must not be taken for stale.
   */
  guardUs?: number;
}

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

  /** Told how long each step of applyBatch took (the ingest app's batch step histogram). */
  onStep?: (step: BatchStep, seconds: number) => void;

  constructor(
    private readonly ds: DataSource,
    @Optional() @Inject(APP_CONFIG) config?: AppConfig,
  ) {
    this.changeFeed = {
      enabled: config?.CHANGE_FEED_ENABLED ?? true,
      refreshes: config?.CHANGE_FEED_REFRESHES ?? false,
    };
  }

  /**
   * Applies a batch of events in order. `readAhead` and `next`: the lane's (its batches come one
   * at a time) read-ahead, and the events likely to come next on that lane, read while this
   * batch is written.
   */
  async applyBatch(
    events: readonly RegistrationEvent[],
    opts: BatchOptions = {},
  ): Promise<BatchResult> {
    if (events.length === 0)
      return { written: 0, ended: 0, stale: 0, duplicates: 0, unassigned: 0, changes: [] };
    const aors = batchAors(events);
    const realms = new Set<string>(); // of events that name no account
    for (const e of events) if (!e.account) realms.add(e.realm.toLowerCase());
    // Optimistic first: read without row locks, write only rows nobody changed meanwhile (a
    // flush, the sweeper, the other queue), in one statement and no explicit transaction. On a
    // conflict that statement undoes itself and the batch is read again, this time in a
    // transaction that locks the rows it reads.
    for (let attempt = 0; ; attempt++) {
      try {
        const locking = attempt >= OPTIMISTIC_ATTEMPTS;
        const { result, accountsWritten } = locking
          ? await this.inTransaction((q) => this.applyOnce(q, events, aors, realms, {}))
          : await this.applyOnce(undefined, events, aors, realms, opts);
        // Remembered only once committed: a rolled-back batch must write its accounts again.
        for (const a of accountsWritten) this.accountsSeen.set(a.id, JSON.stringify(a));
        return result;
      } catch (e) {
        opts.readAhead?.discard();
        const err = e as { code?: string; driverError?: { code?: string } };
        const conflict =
          e instanceof WriteConflict ||
          (err.driverError?.code ?? err.code) === WRITE_CONFLICT_SQLSTATE;
        if (!conflict || attempt + 1 >= MAX_ATTEMPTS) throw conflict ? asConflict(e) : e;
        this.writeConflicts++;
      }
    }
  }

  /**
   * Reads, plans and writes the batch once. Without `q` (optimistic), each statement runs on
   * its own: the write is one atomic statement, unless accounts change too (a transaction then
   * holds the write, the accounts and the outbox). With `q`, all of it runs in q's transaction,
   * and the read locks the rows it reads.
   */
  private async applyOnce(
    q: QueryRunner | undefined,
    events: readonly RegistrationEvent[],
    aors: Map<string, AorRef>,
    realms: Set<string>,
    { readAhead, next }: BatchOptions,
  ): Promise<{ result: BatchResult; accountsWritten: AccountUpsert[] }> {
    let t = performance.now();
    const step = (name: BatchStep) => {
      const now = performance.now();
      this.onStep?.(name, (now - t) / 1000);
      t = now;
    };
    const db = q ?? this.ds;
    let stored =
      (readAhead && (await readAhead.take(this.ds, aors, realms))) ||
      (await readStoredAors(db, [...aors.values()], [...realms], q !== undefined));
    step('read');
    const planOf = (s: StoredAors) =>
      planBatch({ events, current: s.current, accountByRealm: s.accountByRealm });
    let plan = planOf(stored);
    const partial = partiallyRead(plan);
    if (partial.size > 0) {
      // The plan ends bindings read in part: read their AORs whole, and plan again.
      const again = [...partial].map((k) => ({ ...aors.get(k)!, whole: true }));
      stored = withFresh(stored, await readStoredAors(db, again, [], false), partial);
      plan = planOf(stored);
      if (partiallyRead(plan).size > 0) throw new Error('the plan writes a binding read in part'); // never: its AOR is read whole
    }
    const accounts = plan.accounts.filter((a) => this.accountsSeen.get(a.id) !== JSON.stringify(a));
    step('plan');
    const result: BatchResult = {
      written: plan.bindings.length,
      ended: plan.history.length,
      stale: plan.stale,
      duplicates: plan.duplicates,
      unassigned: plan.unassigned,
      changes: plan.changes,
    };
    const { versions, newAors } = stored;
    if (q === undefined && accounts.length > 0) {
      // Claiming a realm's unassigned bindings happens after the write (the write's check
      // would take it for another writer's change), and the outbox after that (with the
      // accounts' new names): one transaction.
      return this.inTransaction(async (tx) => {
        await this.write(tx, plan, versions, newAors, false);
        const accountsWritten = await this.upsertAccounts(tx, accounts);
        await recordChanges(tx, plan.changes, this.changeFeed);
        step('write');
        return { result, accountsWritten };
      });
    }
    if (q === undefined) {
      // The lane's next batch is read while this one is written, and gets its writes laid over.
      if (readAhead && next) readAhead.start(this.ds, next());
      const written = await this.write(this.ds, plan, versions, newAors, true);
      readAhead?.committed(written);
      step('write');
      return { result, accountsWritten: [] };
    }
    await this.write(q, plan, versions, newAors, false);
    const accountsWritten = await this.upsertAccounts(q, accounts);
    await recordChanges(q, plan.changes, this.changeFeed);
    step('write'); // the commit follows, in inTransaction
    return { result, accountsWritten };
  }

  /** The plan's one write statement (WRITE_SQL), with the outbox in it if `withOutbox`. */
  private async write(
    db: Pick<DataSource, 'query'>,
    plan: BatchPlan,
    versions: Map<string, string>,
    newAors: Set<string>,
    withOutbox: boolean,
  ): Promise<WrittenBinding[]> {
    const outbox = withOutbox ? outboxRecords(plan.changes, this.changeFeed) : [];
    if (plan.bindings.length === 0 && outbox.length === 0) return [];
    const storedIds: number[] = [];
    const storedVersions: (string | undefined)[] = [];
    // Only the fields the statement's extensions recordset reads: a whole binding is ~1.2 kB
    // of JSON to stringify here and parse there, these five ~0.16 kB.
    const extensions: Pick<
      Binding,
      'realmKey' | 'usernameKey' | 'realm' | 'username' | 'accountId'
    >[] = [];
    for (const b of plan.bindings) {
      if (b.id !== undefined) {
        storedIds.push(b.id);
        storedVersions.push(versions.get(bindingKey(b)));
      }
      if (newAors.size > 0 && newAors.has(aorKey(b.realmKey, b.usernameKey))) {
        const { realmKey, usernameKey, realm, username, accountId } = b;
        extensions.push({ realmKey, usernameKey, realm, username, accountId });
      }
    }
    const params: unknown[] = [
      JSON.stringify(plan.bindings),
      storedIds,
      storedVersions,
      plan.history.length > 0 ? JSON.stringify(plan.history) : '[]',
      extensions.length > 0 ? JSON.stringify(extensions) : '[]',
      plan.bindings.length,
    ];
    if (outbox.length > 0) params.push(JSON.stringify(outbox));
    const rows = await queryPrepared<WriteRow>(
      db,
      outbox.length > 0 ? 'registrations_write_outbox' : 'registrations_write',
      outbox.length > 0 ? WRITE_WITH_OUTBOX_SQL : WRITE_SQL,
      params,
    );
    const byKey = new Map<string, WriteRow>();
    for (const r of rows) if (r.id !== null) byKey.set(bindingKey(r), r);
    for (const ch of plan.changes) ch.binding.id ??= byKey.get(bindingKey(ch.binding))?.id;
    return plan.bindings.map((b) => {
      const row = byKey.get(bindingKey(b))!; // every binding was written (else RGW01)
      const binding = copyBinding(b);
      binding.id = row.id;
      return { binding, rowVersion: row.rowVersion };
    });
  }

  /**
   * Ends the selected live bindings at once (reason `flushed` for flushes), recording history.
   * A binding already past its expiry at that time (not swept yet) ends as `expired`, at its
   * expiry, as the sweeper would have ended it.
   */
  async endBindings(
    selector: BindingSelector,
    reason: EndReason,
    opts: EndOptions = {},
  ): Promise<Binding[]> {
    return this.inTransaction((q) => this.endIn(q, selector, reason, opts));
  }

  /**
   * A reg_flush from another system, identified by its Msg-ID: ends the selected bindings as
   * endBindings does, and records the flush as applied in the same transaction. Undefined when
   * it was applied before (a redelivery): then nothing changes, so that bindings registered
   * again after it stay.
   */
  async endBindingsOnce(
    flushId: string,
    selector: BindingSelector & { realm: string },
    reason: EndReason,
    opts: EndOptions & { publishedUs: number },
  ): Promise<Binding[] | undefined> {
    return this.inTransaction(async (q) => {
      const claimed: unknown[] = await q.query(
        `INSERT INTO applied_flushes (msg_id, realm_key, username_key, published_us)
         VALUES ($1, lower($2), lower($3), $4) ON CONFLICT (msg_id) DO NOTHING RETURNING 1`,
        [flushId, selector.realm, selector.username ?? null, opts.publishedUs],
      );
      if (claimed.length === 0) return undefined;
      return this.endIn(q, selector, reason, opts);
    });
  }

  private async endIn(
    q: QueryRunner,
    selector: BindingSelector,
    reason: EndReason,
    { atUs = Date.now() * 1000, guardUs = Math.floor(atUs / 1e6) * 1e6 }: EndOptions,
  ): Promise<Binding[]> {
    const where: string[] = ['ended_at IS NULL'];
    const params: unknown[] = [atUs, reason, guardUs];
    const add = (sql: string, v: unknown) => {
      params.push(v);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (selector.accountId !== undefined) add('account_id = ?', selector.accountId);
    if (selector.realm !== undefined) add('realm_key = ?', selector.realm.toLowerCase());
    if (selector.username !== undefined) add('username_key = ?', selector.username.toLowerCase());
    if (selector.ids !== undefined) add('id = ANY(?::bigint[])', selector.ids);
    // (Narrowing only: a Call-ID or contact alone never selects across AORs.)
    const narrowed = where.length > 1;
    if (selector.callId !== undefined) add('call_id = ?', selector.callId);
    if (selector.contactUri !== undefined) add('contact_uri = ?', selector.contactUri);
    if (!narrowed) throw new Error('endBindings needs a selector');
    if (selector.origin !== undefined) add('origin = ?', selector.origin);
    const rows: Record<string, unknown>[] = await q.query(
      `WITH ended AS (
         UPDATE registrations
            SET ended_at = LEAST(expires_at, to_timestamp($1 / 1e6)),
                end_reason = CASE WHEN expires_at <= to_timestamp($1 / 1e6) THEN 'expired' ELSE $2 END,
                expires = 0, event_us = GREATEST(event_us, $3::bigint)
          WHERE ${where.join(' AND ')}
          RETURNING *
       ), history AS (${INSERT_HISTORY_FROM('ended')})
       SELECT ${bindingSelect('ended')} FROM ended`,
      params,
    );
    const ended = rows.map(fromBindingRow);
    await recordChanges(
      q,
      ended.map((b) => ({
        change: b.endReason ?? reason,
        occurredUs: b.endedUs ?? atUs,
        binding: b,
      })),
      this.changeFeed,
    );
    return ended;
  }

  /**
   * Applies what the proxies answered to a reg_sync, in one transaction (one reconciliation at
   * a time): reads with row locks the rows of the held contacts and the live Kamailio rows of
   * the proxies that answered in full, plans (planReconcile, with its race rules), ends what
   * they no longer hold as `reconciled` (history and change feed as any end), and applies the
   * held contacts as events through the ordinary planner, as the ingest applies a batch.
   */
  async reconcile(snapshot: ProxySnapshot, nowUs = Date.now() * 1000): Promise<ReconcileResult> {
    // The rows read are locked, but the ingest may insert a key the answers hold meanwhile: the
    // write then conflicts (RGW01) and the whole plan is made again on the new state.
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.reconcileOnce(snapshot, nowUs);
      } catch (e) {
        const err = e as { code?: string; driverError?: { code?: string } };
        const conflict =
          e instanceof WriteConflict ||
          (err.driverError?.code ?? err.code) === WRITE_CONFLICT_SQLSTATE;
        if (!conflict || attempt >= MAX_ATTEMPTS) throw e;
        this.writeConflicts++;
      }
    }
  }

  private async reconcileOnce(snapshot: ProxySnapshot, nowUs: number): Promise<ReconcileResult> {
    const { result, accountsWritten } = await this.inTransaction(async (q) => {
      await q.query(`SELECT pg_advisory_xact_lock(7406313)`);
      const keys = snapshot.held.map((e) => [
        e.realm.toLowerCase(),
        e.username.toLowerCase(),
        e.contactUri,
      ]);
      const rows: Record<string, unknown>[] = await q.query(
        `SELECT ${bindingSelect('r')} FROM registrations r
          WHERE (r.origin = 'kazoo' AND r.ended_at IS NULL AND r.registrar_node = ANY($1::text[]))
             OR (r.realm_key, r.username_key, r.contact_uri) IN
                (SELECT * FROM unnest($2::text[], $3::text[], $4::text[]))
          FOR UPDATE`,
        [snapshot.complete, keys.map((k) => k[0]), keys.map((k) => k[1]), keys.map((k) => k[2])],
      );
      const current = rows.map(fromBindingRow);
      const plan = planReconcile(snapshot, current, { nowUs });
      const ended =
        plan.end.length > 0
          ? await this.endIn(q, { ids: plan.end }, 'reconciled', { atUs: nowUs })
          : [];
      const applied = {
        result: { changes: [] as BindingChange[] },
        accountsWritten: [] as AccountUpsert[],
      };
      // In slices the size of the ingest's batches (each reads what the previous ones wrote), so
      // that a proxy holding 100,000 contacts is not one 100 MB JSON parameter. (Not faster at
      // 10,000: docs/benchmarks.md, "Reconciliation".)
      for (let i = 0; i < plan.apply.length; i += RECONCILE_SLICE) {
        const slice = plan.apply.slice(i, i + RECONCILE_SLICE);
        const realms = new Set<string>();
        for (const e of slice) if (!e.account) realms.add(e.realm.toLowerCase());
        const once = await this.applyOnce(q, slice, batchAors(slice), realms, {});
        applied.result.changes.push(...once.result.changes);
        applied.accountsWritten.push(...once.accountsWritten);
      }
      const added = applied.result.changes.filter((c) => c.change === 'registered').length;
      const reconciled: ReconcileResult = {
        added,
        refreshed: applied.result.changes.filter((c) => c.change === 'refreshed').length,
        kept: plan.kept,
        ended: ended.length,
        raced: plan.raced,
      };
      return { result: reconciled, accountsWritten: applied.accountsWritten };
    });
    for (const a of accountsWritten) this.accountsSeen.set(a.id, JSON.stringify(a));
    return result;
  }

  /** The proxies (registrar nodes) holding live Kamailio bindings: who should answer a reg_sync. */
  async kazooNodes(): Promise<string[]> {
    const rows: { node: string }[] = await this.ds.query(
      `SELECT DISTINCT registrar_node AS node FROM registrations
        WHERE origin = 'kazoo' AND ended_at IS NULL AND registrar_node IS NOT NULL`,
    );
    return rows.map((r) => r.node);
  }

  /**
   * Ends bindings past their expiry (reason expired). Only one instance sweeps at a time.
   * Due bindings are found by their sweep bound (sweep_at ≤ expires_at, migration
   * 1796317000000), which refreshes leave behind: bindings whose bound passed but that were
   * refreshed meanwhile get their bound moved up to their expiry.
   */
  async expireDue(limit = 5000): Promise<Binding[] | undefined> {
    return this.inTransaction(async (q) => {
      const [{ locked }] = await q.query(`SELECT pg_try_advisory_xact_lock(7406312) AS locked`);
      if (!locked) return undefined;
      await q.query(
        `UPDATE registrations r SET sweep_at = r.expires_at
           FROM (SELECT id FROM registrations
                  WHERE ended_at IS NULL AND sweep_at <= now() AND expires_at > now()
                  ORDER BY sweep_at LIMIT $1 FOR UPDATE SKIP LOCKED) m
          WHERE r.id = m.id`,
        [limit],
      );
      const rows: Record<string, unknown>[] = await q.query(
        `WITH due AS (
           SELECT id FROM registrations WHERE ended_at IS NULL AND sweep_at <= now() AND expires_at <= now()
            ORDER BY sweep_at LIMIT $1 FOR UPDATE SKIP LOCKED
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
    // Flushes are remembered as long as tombstones: what could still be delivered again.
    await this.ds.query(
      `DELETE FROM applied_flushes WHERE applied_at < now() - make_interval(hours => $1)`,
      [tombstoneHours],
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

  /** Writes accounts that changed since last written (the caller filtered), claiming realms. */
  private async upsertAccounts(q: QueryRunner, changed: AccountUpsert[]): Promise<AccountUpsert[]> {
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

function asConflict(e: unknown): WriteConflict {
  return e instanceof WriteConflict ? e : new WriteConflict((e as Error).message);
}
