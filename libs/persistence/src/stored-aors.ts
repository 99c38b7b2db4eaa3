// What the store holds of a batch's AORs before the batch is planned: every binding of each AOR
// touched (which covers the events' own keys and the live bindings sharing a Call-ID with them),
// with the row version the write checks, which AORs are new (for extensions), and which account
// owns each realm. One round trip.
//
// A binding that the batch only refreshes needs no more than the PLANNING_FIELDS; one that ends
// is written back whole (and into history). So AORs with an unregister or expire in the batch,
// and bindings expired by the time they register again, are read whole and the rest in part;
// when the plan ends a binding read in part anyway (a Call-ID replacement), its AOR is read
// again whole and the batch re-planned.
import type { DataSource, QueryRunner } from 'typeorm';
import { aorKey, BatchPlan, Binding, bindingKey, RegistrationEvent } from '@app/registrations';
import { fromBindingRow } from './binding-columns';
import { PREREAD_LOCKING_SQL, PREREAD_SQL } from './registration-batch.sql';
import { queryPrepared } from './prepared-query';

export interface AorRef {
  realm_key: string;
  username_key: string;
  /** Read every field of its bindings (else the PLANNING_FIELDS only, see wholeAfterUs). */
  whole: boolean;
  /**
   * The AOR's last register/refresh: a binding expired by then ends (unswept expiry) when
   * registered again, so it is read whole.
   */
  until_us: number | null;
}

export interface StoredAors {
  /** The stored bindings of the AORs read. */
  current: Binding[];
  /** bindingKey → the row version (xmin) read. */
  versions: Map<string, string>;
  /** aorKey of the AORs that have no stored binding. */
  newAors: Set<string>;
  accountByRealm: Map<string, string>;
}

/** The batch's AORs; read whole where an event may end a binding. */
export function batchAors(events: readonly RegistrationEvent[]): Map<string, AorRef> {
  const aors = new Map<string, AorRef>();
  for (const e of events) {
    const realmKey = e.realm.toLowerCase();
    const usernameKey = e.username.toLowerCase();
    const k = aorKey(realmKey, usernameKey);
    let aor = aors.get(k);
    if (!aor) {
      aor = { realm_key: realmKey, username_key: usernameKey, whole: false, until_us: null };
      aors.set(k, aor);
    }
    if (e.kind === 'unregister' || e.kind === 'expire') aor.whole = true;
    else aor.until_us = Math.max(aor.until_us ?? e.eventUs, e.eventUs);
  }
  return aors;
}

/**
 * Reads the AORs' bindings; `locking` (inside q's transaction) reads every field and locks the
 * rows. `realms`: realm keys whose owning account is wanted.
 */
export async function readStoredAors(
  db: Pick<DataSource | QueryRunner, 'query'>,
  aors: readonly AorRef[],
  realms: readonly string[],
  locking: boolean,
): Promise<StoredAors> {
  const params = [JSON.stringify(aors), realms];
  const rows: Record<string, unknown>[] = locking
    ? await db.query(PREREAD_LOCKING_SQL, params)
    : await queryPrepared(db, 'registrations_preread', PREREAD_SQL, params);
  const stored: StoredAors = {
    current: [],
    versions: new Map(),
    newAors: new Set(),
    accountByRealm: new Map(
      Object.entries(
        (rows.find((r) => r.realmAccounts !== null)?.realmAccounts as Record<string, string>) ?? {},
      ),
    ),
  };
  for (const row of rows) {
    if (row.id === null) {
      stored.newAors.add(aorKey(row.aorRealm as string, row.aorUser as string));
      continue;
    }
    const b = fromBindingRow(row);
    stored.current.push(b);
    stored.versions.set(bindingKey(b), row.rowVersion as string);
  }
  return stored;
}

/** A binding read with the PLANNING_FIELDS only (realm is never NULL in a whole row). */
export function isPartial(b: Binding): boolean {
  return b.realm === undefined;
}

/** aorKeys of the bindings the plan writes (as bindings or history) that were read in part. */
export function partiallyRead(plan: Pick<BatchPlan, 'bindings' | 'history'>): Set<string> {
  const aors = new Set<string>();
  for (const list of [plan.bindings, plan.history])
    for (const b of list) if (isPartial(b)) aors.add(aorKey(b.realmKey, b.usernameKey));
  return aors;
}

/**
 * `stored` with the AORs `aors` replaced by what `fresh` (read later, of those AORs) holds, and
 * `fresh`'s realm owners added.
 */
export function withFresh(stored: StoredAors, fresh: StoredAors, aors: Set<string>): StoredAors {
  const current = stored.current.filter((b) => !aors.has(aorKey(b.realmKey, b.usernameKey)));
  const versions = new Map(stored.versions);
  for (const b of fresh.current) {
    current.push(b);
    versions.set(bindingKey(b), fresh.versions.get(bindingKey(b))!);
  }
  const newAors = new Set([...stored.newAors].filter((k) => !aors.has(k)));
  for (const k of fresh.newAors) newAors.add(k);
  const accountByRealm = new Map([...stored.accountByRealm, ...fresh.accountByRealm]);
  return { current, versions, newAors, accountByRealm };
}

/** A binding as a batch wrote it, with the row version its write left. */
export interface WrittenBinding {
  binding: Binding;
  rowVersion: string;
}

/**
 * `stored` (read while another batch was being written) with that batch's writes laid over it,
 * for the AORs it read: what the database holds once that batch committed, but for other
 * writers, whose changes the write's row-version check catches.
 */
export function withWritten(
  stored: StoredAors,
  aors: ReadonlyMap<string, AorRef>,
  written: readonly WrittenBinding[],
): StoredAors {
  const byKey = new Map(stored.current.map((b) => [bindingKey(b), b]));
  const versions = new Map(stored.versions);
  const newAors = new Set(stored.newAors);
  for (const { binding, rowVersion } of written) {
    const aor = aorKey(binding.realmKey, binding.usernameKey);
    if (!aors.has(aor)) continue;
    const key = bindingKey(binding);
    byKey.set(key, binding);
    versions.set(key, rowVersion);
    newAors.delete(aor);
  }
  return { current: [...byKey.values()], versions, newAors, accountByRealm: stored.accountByRealm };
}
