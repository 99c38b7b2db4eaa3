// planBatch folds an ordered batch of events into the store's writes. A binding is one contact
// of one AOR: (realm, username) without case, plus the contact URI. These tests run batches
// against a tiny in-memory "store" that keeps what each plan wrote, as the real store does.
import { Binding, bindingKey, isLive } from './binding';
import { BatchPlan, planBatch } from './binding-planner';
import type { RegistrationEvent } from './registration-event';

const S = 1_000_000; // µs per second
const T0 = 1_795_324_509 * S;
const ACCOUNT = '189eebbeb7e252d633636ce66f127817';

let seq = 0;
function ev(over: Partial<RegistrationEvent> = {}): RegistrationEvent {
  seq++;
  const contactUri = over.contactUri ?? 'sip:1001@10.0.0.5:5060;transport=udp';
  return {
    kind: 'register',
    origin: 'kazoo',
    msgId: `msg-${seq}`,
    realm: 'acme.sip.example.net',
    username: '1001',
    originalContact: `<${contactUri}>`,
    contactUri,
    contactIp: '10.0.0.5',
    contactPort: 5060,
    callId: 'call-1@10.0.0.5',
    expires: 600,
    eventUs: T0,
    userAgent: 'Yealink SIP-T46S 66.86.0.15',
    ...over,
  };
}

/** What the database holds between batches: the bindings each plan wrote, with ids. */
class FakeStore {
  private readonly rows = new Map<string, Binding>();
  private nextId = 1;

  /** Rows as read back from the database: fresh copies (the planner may modify them). */
  current(): Binding[] {
    return [...this.rows.values()].map((b) => ({ ...b }));
  }

  apply(plan: BatchPlan): BatchPlan {
    for (const b of plan.bindings) {
      const row = { ...b, id: b.id ?? this.nextId++ };
      this.rows.set(bindingKey(row), row);
    }
    return plan;
  }

  run(
    events: RegistrationEvent[],
    accountByRealm: ReadonlyMap<string, string> = new Map(),
  ): BatchPlan {
    return this.apply(planBatch({ events, current: this.current(), accountByRealm }));
  }

  all(): Binding[] {
    return [...this.rows.values()];
  }

  live(atUs: number): Binding[] {
    return this.all().filter((b) => isLive(b, atUs));
  }
}

const changeKinds = (p: BatchPlan) => p.changes.map((c) => c.change);

beforeEach(() => {
  seq = 0;
});

describe('register on an empty state', () => {
  it('creates one live binding and announces it as registered', () => {
    const store = new FakeStore();
    const plan = store.run([ev()]);
    expect(plan.bindings).toHaveLength(1);
    expect(changeKinds(plan)).toEqual(['registered']);
    expect(plan.history).toEqual([]);
    const b = plan.bindings[0];
    expect(b).toMatchObject({
      realmKey: 'acme.sip.example.net',
      usernameKey: '1001',
      contactUri: 'sip:1001@10.0.0.5:5060;transport=udp',
      refreshCount: 0,
      expires: 600,
      eventUs: T0,
      firstRegisteredUs: T0,
      lastRegisteredUs: T0,
      expiresUs: T0 + 600 * S,
      recentMsgIds: 'msg-1',
    });
    expect(b.endReason).toBeUndefined();
    expect(b.endedUs).toBeUndefined();
    expect(isLive(b, T0 + 599 * S)).toBe(true);
    expect(isLive(b, T0 + 600 * S)).toBe(false);
  });

  it('counts expiry from the latest moment a coarse timestamp allows: never early', () => {
    // Kamailio stamps whole seconds: a phone registered at T0 + 0.9 s arrives as T0.
    const store = new FakeStore();
    const [b] = store.run([ev({ clockSlackUs: 999_999 })]).bindings;
    expect(b.eventUs).toBe(T0);
    expect(b.expiresUs).toBe(T0 + 600 * S + 999_999);
    expect(isLive(b, T0 + 600 * S + 900_000)).toBe(true);
    expect(isLive(b, T0 + 601 * S)).toBe(false);
  });

  it('keeps the event facts on the binding but not the event-only fields', () => {
    const b = new FakeStore().run([ev()]).bindings[0] as Binding & Record<string, unknown>;
    expect(b.userAgent).toBe('Yealink SIP-T46S 66.86.0.15');
    expect(b.callId).toBe('call-1@10.0.0.5');
    expect(b.origin).toBe('kazoo');
    expect(b).not.toHaveProperty('kind');
    expect(b).not.toHaveProperty('msgId');
    expect(b).not.toHaveProperty('account');
  });

  it('treats a refresh of an unknown binding as a registration', () => {
    const plan = new FakeStore().run([ev({ kind: 'refresh' })]);
    expect(changeKinds(plan)).toEqual(['registered']);
    expect(plan.bindings[0].refreshCount).toBe(0);
  });

  it('announces the change at the event time with a copy of the binding', () => {
    const plan = new FakeStore().run([ev()]);
    expect(plan.changes[0].occurredUs).toBe(T0);
    expect(plan.changes[0].binding).toEqual(plan.bindings[0]);
    expect(plan.changes[0].binding).not.toBe(plan.bindings[0]);
  });
});

describe('refresh of a live binding', () => {
  it('counts the refresh, keeps the first registration time and extends the expiry', () => {
    const store = new FakeStore();
    store.run([ev()]);
    const plan = store.run([ev({ kind: 'refresh', eventUs: T0 + 300 * S, expires: 3600 })]);
    expect(changeKinds(plan)).toEqual(['refreshed']);
    expect(plan.bindings).toHaveLength(1);
    expect(plan.bindings[0]).toMatchObject({
      id: 1,
      refreshCount: 1,
      firstRegisteredUs: T0,
      lastRegisteredUs: T0 + 300 * S,
      eventUs: T0 + 300 * S,
      expires: 3600,
      expiresUs: T0 + 300 * S + 3600 * S,
    });
    expect(plan.history).toEqual([]);
  });

  it('counts every refresh, also a register (First-Registration true) of a live binding', () => {
    const store = new FakeStore();
    store.run([ev()]);
    store.run([ev({ kind: 'refresh', eventUs: T0 + 60 * S })]);
    const plan = store.run([ev({ kind: 'register', eventUs: T0 + 120 * S })]);
    expect(changeKinds(plan)).toEqual(['refreshed']);
    expect(plan.bindings[0].refreshCount).toBe(2);
    expect(plan.bindings[0].firstRegisteredUs).toBe(T0);
  });

  it('compares realm and username without case', () => {
    const store = new FakeStore();
    store.run([ev({ realm: 'ACME.sip.Example.NET', username: 'Alice' })]);
    const plan = store.run([
      ev({
        kind: 'refresh',
        realm: 'acme.sip.example.net',
        username: 'alice',
        eventUs: T0 + 60 * S,
      }),
    ]);
    expect(changeKinds(plan)).toEqual(['refreshed']);
    expect(store.all()).toHaveLength(1);
    expect(store.all()[0]).toMatchObject({
      realmKey: 'acme.sip.example.net',
      usernameKey: 'alice',
      realm: 'acme.sip.example.net',
    });
  });

  it('takes the newest facts (User-Agent after a firmware upgrade)', () => {
    const store = new FakeStore();
    store.run([ev()]);
    store.run([
      ev({ kind: 'refresh', eventUs: T0 + 60 * S, userAgent: 'Yealink SIP-T46S 66.86.0.20' }),
    ]);
    expect(store.all()[0].userAgent).toBe('Yealink SIP-T46S 66.86.0.20');
  });

  it('applies a refresh carrying the same event time (second-resolution timestamps)', () => {
    const store = new FakeStore();
    store.run([ev()]);
    const plan = store.run([ev({ kind: 'refresh' })]);
    expect(changeKinds(plan)).toEqual(['refreshed']);
    expect(plan.stale).toBe(0);
  });
});

describe('unregister and expire events', () => {
  it('ends a live binding as unregistered, with a history entry and a change', () => {
    const store = new FakeStore();
    store.run([ev()]);
    const plan = store.run([ev({ kind: 'unregister', expires: 0, eventUs: T0 + 30 * S })]);
    expect(changeKinds(plan)).toEqual(['unregistered']);
    expect(plan.history).toHaveLength(1);
    expect(plan.history[0]).toMatchObject({
      id: 1,
      endReason: 'unregistered',
      endedUs: T0 + 30 * S,
      expires: 0,
      firstRegisteredUs: T0,
    });
    expect(plan.bindings).toHaveLength(1);
    expect(plan.bindings[0]).toMatchObject({
      endReason: 'unregistered',
      endedUs: T0 + 30 * S,
      eventUs: T0 + 30 * S,
    });
    expect(plan.changes[0].occurredUs).toBe(T0 + 30 * S);
    expect(store.live(T0 + 31 * S)).toEqual([]);
  });

  it('ends a live binding as expired on an expire event (FreeSWITCH sofia::expire)', () => {
    const store = new FakeStore();
    store.run([ev({ origin: 'freeswitch' })]);
    const plan = store.run([
      ev({ origin: 'freeswitch', kind: 'expire', expires: 0, eventUs: T0 + 600 * S }),
    ]);
    expect(changeKinds(plan)).toEqual(['expired']);
    expect(plan.history[0]).toMatchObject({ endReason: 'expired', endedUs: T0 + 600 * S });
  });

  it('ends a binding whose time ran out before the unregister as expired, at its expiry', () => {
    const store = new FakeStore();
    store.run([ev({ expires: 60 })]);
    const plan = store.run([ev({ kind: 'unregister', expires: 0, eventUs: T0 + 120 * S })]);
    expect(changeKinds(plan)).toEqual(['expired']);
    expect(plan.history[0]).toMatchObject({ endReason: 'expired', endedUs: T0 + 60 * S });
    expect(plan.changes[0].occurredUs).toBe(T0 + 60 * S);
  });

  it('writes nothing to history for an unregister of an already ended binding', () => {
    const store = new FakeStore();
    store.run([ev(), ev({ kind: 'unregister', expires: 0, eventUs: T0 + 10 * S })]);
    const plan = store.run([ev({ kind: 'unregister', expires: 0, eventUs: T0 + 20 * S })]);
    expect(plan.history).toEqual([]);
    expect(plan.changes).toEqual([]);
    expect(plan.bindings[0]).toMatchObject({
      endReason: 'unregistered',
      endedUs: T0 + 10 * S,
      eventUs: T0 + 20 * S,
    });
  });
});

describe('stale events', () => {
  it('ignores and counts a register older than the stored binding, keeping the binding as it was', () => {
    const store = new FakeStore();
    store.run([ev()]);
    store.run([ev({ kind: 'refresh', eventUs: T0 + 300 * S })]);
    const plan = store.run([ev({ kind: 'refresh', eventUs: T0 + 100 * S, expires: 30 })]);
    expect(plan.stale).toBe(1);
    expect(plan.bindings).toEqual([]);
    expect(plan.changes).toEqual([]);
    expect(store.all()[0]).toMatchObject({
      refreshCount: 1,
      eventUs: T0 + 300 * S,
      expiresUs: T0 + 900 * S,
    });
  });

  it('never resurrects an ended binding with an older register', () => {
    const store = new FakeStore();
    store.run([ev(), ev({ kind: 'unregister', expires: 0, eventUs: T0 + 60 * S })]);
    const plan = store.run([ev({ kind: 'refresh', eventUs: T0 + 30 * S })]);
    expect(plan.stale).toBe(1);
    expect(plan.changes).toEqual([]);
    expect(store.live(T0 + 61 * S)).toEqual([]);
    expect(store.all()[0].endReason).toBe('unregistered');
  });

  it('never ends a live binding with an unregister older than its last refresh', () => {
    const store = new FakeStore();
    store.run([ev(), ev({ kind: 'refresh', eventUs: T0 + 300 * S })]);
    const plan = store.run([ev({ kind: 'unregister', expires: 0, eventUs: T0 + 200 * S })]);
    expect(plan.stale).toBe(1);
    expect(plan.history).toEqual([]);
    expect(store.live(T0 + 301 * S)).toHaveLength(1);
  });

  it('also spots stale events within one batch', () => {
    const plan = new FakeStore().run([
      ev({ eventUs: T0 + 10 * S }),
      ev({ kind: 'unregister', expires: 0, eventUs: T0 }),
    ]);
    expect(plan.stale).toBe(1);
    expect(changeKinds(plan)).toEqual(['registered']);
    expect(plan.bindings[0].endReason).toBeUndefined();
  });
});

describe('redelivered duplicates', () => {
  it('ignores and counts a message redelivered after it was stored', () => {
    const store = new FakeStore();
    const first = ev();
    store.run([first]);
    const plan = store.run([{ ...first }]);
    expect(plan.duplicates).toBe(1);
    expect(plan.stale).toBe(0);
    expect(plan.bindings).toEqual([]);
    expect(plan.changes).toEqual([]);
    expect(store.all()[0].refreshCount).toBe(0);
  });

  it('ignores a duplicate within the same batch', () => {
    const first = ev();
    const plan = new FakeStore().run([first, { ...first }]);
    expect(plan.duplicates).toBe(1);
    expect(changeKinds(plan)).toEqual(['registered']);
    expect(plan.bindings[0].refreshCount).toBe(0);
  });

  it('ignores a redelivered unregister', () => {
    const store = new FakeStore();
    const unreg = ev({ kind: 'unregister', expires: 0, eventUs: T0 + 10 * S });
    store.run([ev(), unreg]);
    const plan = store.run([{ ...unreg }]);
    expect(plan.duplicates).toBe(1);
    expect(plan.history).toEqual([]);
  });

  it('a register and unregister of the same second, redelivered together, change nothing', () => {
    // Kamailio stamps whole seconds: the register is not older than the stored unregister, only
    // its Msg-ID tells it was applied already.
    const store = new FakeStore();
    const reg = ev({ eventUs: T0 });
    const unreg = ev({ kind: 'unregister', expires: 0, eventUs: T0 });
    store.run([reg, unreg]);
    const plan = store.run([{ ...reg }, { ...unreg }]);
    expect(plan.duplicates).toBe(2);
    expect(plan.bindings).toEqual([]);
    expect(plan.history).toEqual([]);
    expect(plan.changes).toEqual([]);
    expect(store.all()[0].endReason).toBe('unregistered');
  });

  it('the register of that pair redelivered alone does not bring the binding back', () => {
    const store = new FakeStore();
    const reg = ev({ eventUs: T0 });
    store.run([reg, ev({ kind: 'unregister', expires: 0, eventUs: T0 })]);
    const plan = store.run([{ ...reg }]);
    expect(plan.duplicates).toBe(1);
    expect(store.all()[0].endReason).toBe('unregistered');
  });

  it('remembers the last few Msg-IDs of a binding, newest first', () => {
    const store = new FakeStore();
    const events = [1, 2, 3, 4, 5].map((n) =>
      ev({ kind: n === 1 ? 'register' : 'refresh', eventUs: T0 + n * S, msgId: `m${n}` }),
    );
    store.run(events);
    expect(store.all()[0].recentMsgIds).toBe('m5 m4 m3 m2');
    // A refresh of the same second as the last one, not seen before, still applies.
    const plan = store.run([ev({ kind: 'refresh', eventUs: T0 + 5 * S, msgId: 'm6' })]);
    expect(changeKinds(plan)).toEqual(['refreshed']);
  });

  it('does not take events without msgId for duplicates', () => {
    const store = new FakeStore();
    store.run([ev({ msgId: undefined })]);
    const plan = store.run([ev({ msgId: undefined, kind: 'refresh' })]);
    expect(plan.duplicates).toBe(0);
    expect(changeKinds(plan)).toEqual(['refreshed']);
  });
});

describe('several contacts on one AOR', () => {
  const deskUri = 'sip:1001@10.0.0.5:5060;transport=udp';
  const mobileUri = 'sip:1001@198.51.100.9:40000;transport=tls';

  it('keeps two phones on one AOR as two bindings', () => {
    const store = new FakeStore();
    const plan = store.run([
      ev({ contactUri: deskUri }),
      ev({ contactUri: mobileUri, callId: 'other-call@198.51.100.9', eventUs: T0 + S }),
    ]);
    expect(changeKinds(plan)).toEqual(['registered', 'registered']);
    expect(plan.bindings.map((b) => b.contactUri).sort()).toEqual([deskUri, mobileUri].sort());
    expect(store.live(T0 + 2 * S)).toHaveLength(2);
  });

  it('unregisters one phone and leaves the other live', () => {
    const store = new FakeStore();
    store.run([
      ev({ contactUri: deskUri }),
      ev({ contactUri: mobileUri, callId: 'other-call@198.51.100.9' }),
    ]);
    store.run([ev({ contactUri: deskUri, kind: 'unregister', expires: 0, eventUs: T0 + 10 * S })]);
    expect(store.live(T0 + 11 * S).map((b) => b.contactUri)).toEqual([mobileUri]);
  });

  it('keeps the contact URI exact (case-sensitive) in the key', () => {
    const store = new FakeStore();
    store.run([ev({ contactUri: 'sip:1001@10.0.0.5:5060;transport=UDP' })]);
    store.run([
      ev({ contactUri: 'sip:1001@10.0.0.5:5060;transport=udp', callId: 'c2', eventUs: T0 + S }),
    ]);
    expect(store.all()).toHaveLength(2);
  });
});

describe('the same Call-ID back with another contact (phone moved or re-NATed)', () => {
  const oldUri = 'sip:1001@203.0.113.7:40123;transport=udp';
  const newUri = 'sip:1001@203.0.113.7:51000;transport=udp';

  it('ends the old binding as replaced and registers the new one', () => {
    const store = new FakeStore();
    store.run([ev({ contactUri: oldUri })]);
    const plan = store.run([ev({ contactUri: newUri, kind: 'refresh', eventUs: T0 + 60 * S })]);
    expect(changeKinds(plan).sort()).toEqual(['registered', 'replaced']);
    expect(plan.history).toHaveLength(1);
    expect(plan.history[0]).toMatchObject({
      id: 1,
      contactUri: oldUri,
      endReason: 'replaced',
      endedUs: T0 + 60 * S,
    });
    expect(store.live(T0 + 61 * S).map((b) => b.contactUri)).toEqual([newUri]);
    const added = store.all().find((b) => b.contactUri === newUri);
    expect(added).toMatchObject({ refreshCount: 0, firstRegisteredUs: T0 + 60 * S });
  });

  it('does not let a late refresh of the old contact bring it back', () => {
    const store = new FakeStore();
    store.run([ev({ contactUri: oldUri })]);
    store.run([ev({ contactUri: newUri, eventUs: T0 + 60 * S })]);
    const plan = store.run([ev({ contactUri: oldUri, kind: 'refresh', eventUs: T0 + 30 * S })]);
    expect(plan.stale).toBe(1);
    expect(store.live(T0 + 61 * S).map((b) => b.contactUri)).toEqual([newUri]);
  });

  it('records an old binding whose time had already run out as expired, at its expiry', () => {
    const store = new FakeStore();
    store.run([ev({ contactUri: oldUri, expires: 60 })]);
    const plan = store.run([ev({ contactUri: newUri, eventUs: T0 + 120 * S })]);
    expect(plan.history).toHaveLength(1);
    expect(plan.history[0]).toMatchObject({
      contactUri: oldUri,
      endReason: 'expired',
      endedUs: T0 + 60 * S,
    });
  });

  it('replaces within one batch', () => {
    const store = new FakeStore();
    const plan = store.run([
      ev({ contactUri: oldUri }),
      ev({ contactUri: newUri, eventUs: T0 + 60 * S }),
    ]);
    expect(plan.history.map((h) => [h.contactUri, h.endReason])).toEqual([[oldUri, 'replaced']]);
    expect(store.live(T0 + 61 * S).map((b) => b.contactUri)).toEqual([newUri]);
  });

  it('does not replace a contact by a Call-ID it had earlier in the batch, as batches of one would not', () => {
    // Found by the lanes' property (apps/ingest/src/ingest-lane.spec.ts): a contact moved from
    // Call-ID c1 to c2, then another contact registers with c1. Batches of one leave the first
    // contact registered (its Call-ID is c2); one batch must too.
    const events = [
      ev({ contactUri: oldUri, callId: 'c1' }),
      ev({ contactUri: oldUri, callId: 'c2', kind: 'refresh', eventUs: T0 + 1 * S }),
      ev({ contactUri: newUri, callId: 'c1', eventUs: T0 + 2 * S }),
    ];
    const together = new FakeStore();
    const plan = together.run(events);
    expect(plan.history).toEqual([]);
    const oneByOne = new FakeStore();
    for (const e of events) oneByOne.run([e]);
    expect(
      together
        .live(T0 + 3 * S)
        .map((b) => b.contactUri)
        .sort(),
    ).toEqual(
      oneByOne
        .live(T0 + 3 * S)
        .map((b) => b.contactUri)
        .sort(),
    );
    expect(together.live(T0 + 3 * S)).toHaveLength(2);
  });

  it('does not touch a binding of another AOR that happens to share the Call-ID', () => {
    const store = new FakeStore();
    store.run([ev({ contactUri: oldUri, username: '1002' })]);
    const plan = store.run([ev({ contactUri: newUri, eventUs: T0 + 60 * S })]);
    expect(plan.history).toEqual([]);
    expect(store.live(T0 + 61 * S)).toHaveLength(2);
  });

  it('does not touch the other contacts of the AOR (other Call-IDs)', () => {
    const store = new FakeStore();
    store.run([ev({ contactUri: oldUri, callId: 'desk' })]);
    const plan = store.run([ev({ contactUri: newUri, callId: 'softphone', eventUs: T0 + 60 * S })]);
    expect(plan.history).toEqual([]);
    expect(store.live(T0 + 61 * S)).toHaveLength(2);
  });

  it('does not let a late register of a contact the phone has left end the newer binding', () => {
    // The phone registered from newUri at T0+60; a register from its former contact, sent at
    // T0 and delayed (redelivered, reordered), arrives afterwards.
    const store = new FakeStore();
    store.run([ev({ contactUri: newUri, eventUs: T0 + 60 * S })]);
    const plan = store.run([ev({ contactUri: oldUri, eventUs: T0 })]);
    expect(plan.stale).toBe(1);
    expect(plan.history).toEqual([]);
    expect(plan.changes).toEqual([]);
    expect(store.live(T0 + 61 * S).map((b) => b.contactUri)).toEqual([newUri]);
  });

  it('ignores such a late register within one batch too', () => {
    const store = new FakeStore();
    const plan = store.run([
      ev({ contactUri: newUri, eventUs: T0 + 60 * S }),
      ev({ contactUri: oldUri, eventUs: T0 }),
    ]);
    expect(plan.stale).toBe(1);
    expect(changeKinds(plan)).toEqual(['registered']);
    expect(store.live(T0 + 61 * S).map((b) => b.contactUri)).toEqual([newUri]);
  });
});

describe('register after the stored binding ran out (not yet swept)', () => {
  it('closes the old segment as expired at its expiry and starts a new one', () => {
    const store = new FakeStore();
    store.run([ev({ expires: 60 })]);
    store.run([ev({ kind: 'refresh', eventUs: T0 + 30 * S, expires: 60 })]);
    const plan = store.run([ev({ kind: 'refresh', eventUs: T0 + 300 * S, expires: 600 })]);
    expect(changeKinds(plan)).toEqual(['expired', 'registered']);
    expect(plan.history).toHaveLength(1);
    expect(plan.history[0]).toMatchObject({
      id: 1,
      endReason: 'expired',
      endedUs: T0 + 90 * S,
      firstRegisteredUs: T0,
      refreshCount: 1,
    });
    expect(plan.changes[0].occurredUs).toBe(T0 + 90 * S);
    expect(plan.bindings).toHaveLength(1);
    expect(plan.bindings[0]).toMatchObject({
      id: 1,
      refreshCount: 0,
      firstRegisteredUs: T0 + 300 * S,
      expiresUs: T0 + 900 * S,
    });
    expect(plan.bindings[0].endReason).toBeUndefined();
  });

  it('starts a new segment after a tombstone (newer register of an ended binding)', () => {
    const store = new FakeStore();
    store.run([ev(), ev({ kind: 'unregister', expires: 0, eventUs: T0 + 10 * S })]);
    const plan = store.run([ev({ eventUs: T0 + 20 * S })]);
    expect(changeKinds(plan)).toEqual(['registered']);
    expect(plan.history).toEqual([]);
    expect(plan.bindings[0]).toMatchObject({
      id: 1,
      refreshCount: 0,
      firstRegisteredUs: T0 + 20 * S,
    });
    expect(plan.bindings[0].endReason).toBeUndefined();
    expect(plan.bindings[0].endedUs).toBeUndefined();
  });
});

describe('an unregister arriving before its register (reordered)', () => {
  it('leaves a tombstone so that the late, older register is stale', () => {
    const store = new FakeStore();
    const plan = store.run([
      ev({ kind: 'unregister', expires: 0, eventUs: T0 + 10 * S }),
      ev({ kind: 'register', eventUs: T0 }),
    ]);
    expect(plan.stale).toBe(1);
    expect(plan.changes).toEqual([]);
    expect(plan.history).toEqual([]);
    expect(plan.bindings).toHaveLength(1);
    expect(plan.bindings[0]).toMatchObject({
      endReason: 'unregistered',
      endedUs: T0 + 10 * S,
      eventUs: T0 + 10 * S,
      expires: 0,
    });
    expect(store.live(T0 + S)).toEqual([]);
  });

  it('keeps the tombstone across batches', () => {
    const store = new FakeStore();
    store.run([ev({ kind: 'unregister', expires: 0, eventUs: T0 + 10 * S })]);
    const plan = store.run([ev({ eventUs: T0 })]);
    expect(plan.stale).toBe(1);
    expect(store.live(T0 + S)).toEqual([]);
  });

  it('leaves an expired tombstone for an expire before any register', () => {
    const plan = new FakeStore().run([ev({ kind: 'expire', expires: 0, eventUs: T0 })]);
    expect(plan.bindings[0].endReason).toBe('expired');
    expect(plan.changes).toEqual([]);
  });
});

describe('several events of one binding in one batch', () => {
  it('register → unregister → register ends live, with every change in order', () => {
    const store = new FakeStore();
    const plan = store.run([
      ev({ eventUs: T0 }),
      ev({ kind: 'unregister', expires: 0, eventUs: T0 + 10 * S }),
      ev({ eventUs: T0 + 20 * S }),
    ]);
    expect(changeKinds(plan)).toEqual(['registered', 'unregistered', 'registered']);
    expect(plan.changes.map((c) => c.occurredUs)).toEqual([T0, T0 + 10 * S, T0 + 20 * S]);
    expect(plan.history).toHaveLength(1);
    expect(plan.history[0]).toMatchObject({
      endReason: 'unregistered',
      firstRegisteredUs: T0,
      endedUs: T0 + 10 * S,
    });
    expect(plan.bindings).toHaveLength(1);
    expect(plan.bindings[0]).toMatchObject({ firstRegisteredUs: T0 + 20 * S, refreshCount: 0 });
    expect(plan.bindings[0].endReason).toBeUndefined();
    expect(store.live(T0 + 21 * S)).toHaveLength(1);
  });

  it('snapshots each change: the first change still shows the binding live', () => {
    const plan = new FakeStore().run([
      ev(),
      ev({ kind: 'unregister', expires: 0, eventUs: T0 + 10 * S }),
    ]);
    expect(plan.changes[0].binding.endReason).toBeUndefined();
    expect(plan.changes[1].binding.endReason).toBe('unregistered');
  });

  it('writes each touched binding once, in its final state', () => {
    const plan = new FakeStore().run([
      ev(),
      ev({ kind: 'refresh', eventUs: T0 + 60 * S }),
      ev({ kind: 'refresh', eventUs: T0 + 120 * S }),
    ]);
    expect(changeKinds(plan)).toEqual(['registered', 'refreshed', 'refreshed']);
    expect(plan.bindings).toHaveLength(1);
    expect(plan.bindings[0].refreshCount).toBe(2);
  });
});

describe('accounts', () => {
  it('uses the account of the event', () => {
    const plan = new FakeStore().run([
      ev({ account: { id: ACCOUNT, name: 'Acme', realm: 'acme.sip.example.net' } }),
    ]);
    expect(plan.bindings[0].accountId).toBe(ACCOUNT);
    expect(plan.unassigned).toBe(0);
  });

  it('uses accountByRealm (by lower-case realm) when the event has no account', () => {
    const plan = new FakeStore().run(
      [ev({ realm: 'ACME.sip.example.net' })],
      new Map([['acme.sip.example.net', ACCOUNT]]),
    );
    expect(plan.bindings[0].accountId).toBe(ACCOUNT);
    expect(plan.unassigned).toBe(0);
  });

  it("prefers the event's account over the realm's", () => {
    const other = '0123456789abcdef0123456789abcdef';
    const plan = new FakeStore().run(
      [ev({ account: { id: ACCOUNT } })],
      new Map([['acme.sip.example.net', other]]),
    );
    expect(plan.bindings[0].accountId).toBe(ACCOUNT);
  });

  it('counts events that belong to no account', () => {
    const plan = new FakeStore().run([
      ev(),
      ev({ contactUri: 'sip:1002@10.0.0.6:5060', username: '1002', callId: 'c2' }),
    ]);
    expect(plan.unassigned).toBe(2);
    expect(plan.bindings.every((b) => b.accountId === undefined)).toBe(true);
  });

  it('keeps the account of a binding refreshed by an event without one', () => {
    const store = new FakeStore();
    store.run([ev({ account: { id: ACCOUNT } })]);
    const plan = store.run([ev({ kind: 'refresh', eventUs: T0 + 60 * S })]);
    expect(plan.bindings[0].accountId).toBe(ACCOUNT);
    expect(plan.unassigned).toBe(0);
  });

  it('collects each account once, merging Account-ID/Name/Realm from all events', () => {
    const plan = new FakeStore().run([
      ev({ account: { id: ACCOUNT, realm: 'acme.sip.example.net' } }),
      ev({
        kind: 'refresh',
        eventUs: T0 + 1 * S,
        account: { id: ACCOUNT, name: 'Acme', realm: undefined },
      }),
      ev({
        contactUri: 'sip:2001@10.9.0.1:5060',
        username: '2001',
        realm: 'beta.sip.example.net',
        callId: 'b',
        account: { id: '0123456789abcdef0123456789abcdef', name: 'Beta' },
      }),
    ]);
    expect(plan.accounts).toEqual([
      { id: ACCOUNT, name: 'Acme', realm: 'acme.sip.example.net' },
      { id: '0123456789abcdef0123456789abcdef', name: 'Beta' },
    ]);
  });

  it('does not collect accounts from ignored (stale or duplicate) events', () => {
    const store = new FakeStore();
    store.run([ev({ eventUs: T0 + 60 * S })]);
    const plan = store.run([ev({ eventUs: T0, account: { id: ACCOUNT } })]);
    expect(plan.accounts).toEqual([]);
  });
});
