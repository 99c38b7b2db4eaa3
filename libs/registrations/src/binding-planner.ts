// Folds an ordered batch of registration events into what the store must write: the final
// state of every touched binding, the ended segments for history, and the changes to announce.
// Pure (its input is left untouched): the store reads the current rows, calls planBatch, writes
// the plan in one statement.
import {
  aorCallKey,
  Binding,
  bindingFromEvent,
  bindingKey,
  copyBinding,
  hasApplied,
  isLive,
  withApplied,
} from './binding';
import type { EndReason, RegistrationEvent } from './registration-event';

export type ChangeKind =
  'registered' | 'refreshed' | 'unregistered' | 'expired' | 'flushed' | 'replaced' | 'reconciled';

export interface BindingChange {
  change: ChangeKind;
  occurredUs: number;
  /** The binding's state right after the change (a copy). */
  binding: Binding;
}

export interface AccountUpsert {
  id: string;
  name?: string;
  realm?: string;
}

export interface BatchPlan {
  /** Final state of every binding touched (new, refreshed, ended or tombstoned). */
  bindings: Binding[];
  /** Segments that ended in this batch (each with endedUs and endReason). */
  history: Binding[];
  changes: BindingChange[];
  accounts: AccountUpsert[];
  stale: number;
  duplicates: number;
  /** Events whose realm belongs to no known account. */
  unassigned: number;
}

export interface PlanInput {
  events: readonly RegistrationEvent[];
  /** Current rows for the events' keys, and live rows sharing an AOR + Call-ID with them. */
  current: readonly Binding[];
  /** Account id owning each realm key, for events that carry no Account-ID. */
  accountByRealm: ReadonlyMap<string, string>;
}

export function planBatch({ events, current, accountByRealm }: PlanInput): BatchPlan {
  const state = new Map<string, Binding>();
  const byCallId = new Map<string, Set<string>>();
  const indexCall = (b: Binding) => {
    if (!b.callId) return;
    const k = aorCallKey(b.realmKey, b.usernameKey, b.callId);
    let keys = byCallId.get(k);
    if (!keys) byCallId.set(k, (keys = new Set()));
    keys.add(bindingKey(b));
  };
  for (const stored of current) {
    const b = copyBinding(stored); // the caller's bindings stay as they were (it may plan again)
    state.set(bindingKey(b), b);
    indexCall(b);
  }
  const dirty = new Set<string>();
  const plan: BatchPlan = {
    bindings: [],
    history: [],
    changes: [],
    accounts: [],
    stale: 0,
    duplicates: 0,
    unassigned: 0,
  };
  const accounts = new Map<string, AccountUpsert>();

  const end = (b: Binding, reason: EndReason, atUs: number) => {
    b.endReason = reason;
    b.endedUs = atUs;
    b.expires = 0;
    plan.history.push(copyBinding(b));
    plan.changes.push({ change: reason, occurredUs: atUs, binding: copyBinding(b) });
  };

  for (const e of events) {
    const realmKey = e.realm.toLowerCase();
    const usernameKey = e.username.toLowerCase();
    const key = bindingKey({ realmKey, usernameKey, contactUri: e.contactUri });
    const cur = state.get(key);
    if (cur && e.eventUs < cur.eventUs) {
      plan.stale++;
      continue;
    }
    if (cur && hasApplied(cur, e.msgId)) {
      plan.duplicates++;
      continue;
    }
    if ((e.kind === 'register' || e.kind === 'refresh') && e.callId) {
      // The phone has since registered this Call-ID from another contact: this one is old news
      // (it must neither come back to life nor end the newer binding as 'replaced'). Whether
      // that binding has ended since (unregistered, flushed, expired) does not matter: its
      // end is later news still. Were only live ones counted, a flush or unregister of the
      // newer binding would make this event fresh again, and the same event delivered again
      // after it would register a contact its first delivery left stale (issue 13).
      let superseded = false;
      for (const k of byCallId.get(aorCallKey(realmKey, usernameKey, e.callId)) ?? []) {
        // (The index keeps a key under every Call-ID it ever had: check the current one.)
        const other = k === key ? undefined : state.get(k);
        if (other?.callId !== e.callId) continue;
        if (other.eventUs > e.eventUs) superseded = true;
      }
      if (superseded) {
        plan.stale++;
        continue;
      }
    }
    if (e.account) {
      const a = accounts.get(e.account.id) ?? { id: e.account.id };
      if (e.account.name !== undefined) a.name = e.account.name;
      if (e.account.realm !== undefined) a.realm = e.account.realm;
      accounts.set(a.id, a);
    }
    const accountId = e.account?.id ?? accountByRealm.get(realmKey) ?? cur?.accountId;
    if (!accountId) plan.unassigned++;
    dirty.add(key);

    if (e.kind === 'register' || e.kind === 'refresh') {
      const live = cur !== undefined && isLive(cur, e.eventUs);
      if (cur && !live && cur.endReason === undefined) {
        // Expired but not yet swept: close that segment before a new one starts.
        end(cur, 'expired', cur.expiresUs);
      }
      const next = bindingFromEvent(e, realmKey, usernameKey);
      next.id = cur?.id;
      next.recentMsgIds = withApplied(cur?.recentMsgIds, e.msgId);
      next.accountId = accountId;
      if (live) {
        next.firstRegisteredUs = cur.firstRegisteredUs;
        next.refreshCount = cur.refreshCount + 1;
      }
      state.set(key, next);
      indexCall(next);
      plan.changes.push({
        change: live ? 'refreshed' : 'registered',
        occurredUs: e.eventUs,
        binding: copyBinding(next),
      });
      // The same Call-ID back with another contact replaces the old binding (phone moved/NATed).
      if (e.callId) {
        for (const otherKey of byCallId.get(aorCallKey(realmKey, usernameKey, e.callId)) ?? []) {
          const other = state.get(otherKey);
          if (otherKey === key || !other || other.endReason !== undefined) continue;
          if (other.callId !== e.callId) continue; // it had that Call-ID earlier in the batch
          dirty.add(otherKey);
          other.eventUs = Math.max(other.eventUs, e.eventUs);
          end(
            other,
            isLive(other, e.eventUs) ? 'replaced' : 'expired',
            isLive(other, e.eventUs) ? e.eventUs : other.expiresUs,
          );
        }
      }
    } else {
      const reason: EndReason = e.kind === 'unregister' ? 'unregistered' : 'expired';
      if (cur && cur.endReason === undefined) {
        cur.eventUs = e.eventUs;
        cur.recentMsgIds = withApplied(cur.recentMsgIds, e.msgId);
        const expiredBefore = cur.expiresUs <= e.eventUs;
        end(cur, expiredBefore ? 'expired' : reason, expiredBefore ? cur.expiresUs : e.eventUs);
      } else if (cur) {
        // Already ended: only move the guard forward.
        cur.eventUs = e.eventUs;
        cur.recentMsgIds = withApplied(cur.recentMsgIds, e.msgId);
      } else {
        // An end before any start (reordered): keep a tombstone so the late register is stale.
        const tombstone = bindingFromEvent(e, realmKey, usernameKey);
        tombstone.accountId = accountId;
        tombstone.expires = 0;
        tombstone.expiresUs = e.eventUs;
        tombstone.endedUs = e.eventUs;
        tombstone.endReason = reason;
        state.set(key, tombstone);
        // Its Call-ID's later news, for the rest of the batch as for later batches (which read
        // it back): a batch applies as batches of one would.
        indexCall(tombstone);
      }
    }
  }
  for (const key of dirty) plan.bindings.push(state.get(key)!);
  plan.accounts = [...accounts.values()];
  return plan;
}
