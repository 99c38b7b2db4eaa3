// Reconciliation with the proxies (docs/reconciliation.md): from what the proxies said they hold
// (their answers to a reg_sync) and the table's rows, what to add or refresh, what to end, what
// to keep. Pure; the store reads the rows with locks, calls planReconcile, writes the result.
import { bindingKey, isLive } from './binding';
import type { Binding } from './binding';
import type { RegistrationEvent } from './registration-event';

/** What the proxies answered to one reg_sync. */
export interface ProxySnapshot {
  /** When the reg_sync was published (µs): the race rules count from here. */
  startedUs: number;
  /** Each held contact, parsed like any reg_success (kind refresh; registrarNode = the proxy). */
  held: RegistrationEvent[];
  /**
   * Proxies (registrar nodes) that answered in full: only their bindings may end. A proxy one
   * of whose answers could not be parsed is left out (its missing binding may be that one).
   */
  complete: string[];
  /** Answers that were not a valid reg_success (their reasons, for the log). */
  rejected: string[];
  /** Milliseconds from publishing reg_sync to the first and the last answer (for figures). */
  answeredMs?: { first: number; last: number };
}

export interface ReconcileOptions {
  /** Now (µs): a row already past its expiry is not live (the sweeper ends it, not us). */
  nowUs: number;
  /**
   * How far apart the proxy's expiry and the row's may be and still count as the same
   * registration (Kamailio stamps whole seconds: 2 s by default).
   */
  expiryToleranceUs?: number;
}

export interface ReconcilePlan {
  /** Events to apply through the ordinary planner: bindings to add, or to refresh. */
  apply: RegistrationEvent[];
  /** Ids of live Kamailio-held bindings the proxy no longer holds: end them `reconciled`. */
  end: number[];
  /** Held and already right in the table. */
  kept: number;
  /** Left alone: the ingest wrote them after the reg_sync went out (its news is newer). */
  raced: number;
}

/**
 * The race rule: a row whose last event is at or after this time was (or may have been) written
 * from an event that happened after the reg_sync was published; neither a proxy's answer nor
 * its silence may undo it. Kamailio stamps events in whole seconds, so an event of the sync's
 * own second reads as that second's start: the cut is the start of the second before (one
 * second of margin for the proxies' clocks).
 */
export function raceCutoffUs(startedUs: number): number {
  return Math.floor(startedUs / 1e6) * 1e6 - 1e6;
}

/**
 * `rows`: the table's rows for the held keys, and the live Kamailio (`kazoo`) rows of the
 * complete proxies. FreeSWITCH rows are never ended by a Kamailio sync, whatever is passed.
 */
export function planReconcile(
  snapshot: ProxySnapshot,
  rows: readonly Binding[],
  { nowUs, expiryToleranceUs = 2_000_000 }: ReconcileOptions,
): ReconcilePlan {
  const cutoffUs = raceCutoffUs(snapshot.startedUs);
  const byKey = new Map<string, Binding>();
  for (const r of rows) byKey.set(bindingKey(r), r);
  const plan: ReconcilePlan = { apply: [], end: [], kept: 0, raced: 0 };
  const heldKeys = new Set<string>();
  for (const e of snapshot.held) {
    const key = bindingKey({
      realmKey: e.realm.toLowerCase(),
      usernameKey: e.username.toLowerCase(),
      contactUri: e.contactUri,
    });
    if (heldKeys.has(key)) continue; // a proxy answering twice (a duplicate delivery)
    heldKeys.add(key);
    const row = byKey.get(key);
    if (row && row.eventUs >= cutoffUs) {
      plan.raced++;
      continue;
    }
    if (row && row.origin !== 'kazoo' && isLive(row, nowUs)) {
      // A FreeSWITCH binding with the same contact: not this proxy's to refresh.
      plan.kept++;
      continue;
    }
    const heldExpiresUs = e.eventUs + (e.clockSlackUs ?? 0) + e.expires * 1_000_000;
    if (
      row &&
      isLive(row, nowUs) &&
      row.callId === e.callId &&
      Math.abs(row.expiresUs - heldExpiresUs) <= expiryToleranceUs
    ) {
      plan.kept++;
      continue;
    }
    plan.apply.push(e);
  }
  const complete = new Set(snapshot.complete);
  for (const r of rows) {
    if (r.origin !== 'kazoo' || r.id === undefined || !isLive(r, nowUs)) continue;
    if (r.registrarNode === undefined || !complete.has(r.registrarNode)) continue;
    if (heldKeys.has(bindingKey(r))) continue;
    if (r.eventUs >= cutoffUs) {
      plan.raced++;
      continue;
    }
    plan.end.push(r.id);
  }
  return plan;
}
