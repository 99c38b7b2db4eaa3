// A register older than the last news of its Call-ID from another contact of the same AOR is
// stale (`superseded` in planBatch), and stays stale whatever ends that other binding later —
// a flush, an unregister, an expiry — so that the same event delivered again after the end
// (the ingest died between commit and ack) changes nothing it did not change the first time.
// Issue 13: only live bindings counted, and a flush between the two deliveries brought the old
// contact back. The store's ends are mirrored from RegistrationStore.endIn (SQL): ended_at and
// end_reason set, event_us raised to the guard, the row kept (a tombstone, read back whole).
import { Binding, bindingKey, isLive } from './binding';
import { planBatch } from './binding-planner';
import type { RegistrationEvent } from './registration-event';

const S = 1_000_000;
const T0 = 1_795_324_509 * S;
const REALM = 'acme.sip.example.net';
const uri = (c: string) => `sip:1001@${c}.example.com:5060`;

let seq = 0;
function ev(
  contact: string,
  callId: string,
  second: number,
  kind: RegistrationEvent['kind'] = 'register',
): RegistrationEvent {
  const ends = kind === 'unregister' || kind === 'expire';
  return {
    kind,
    origin: 'kazoo',
    msgId: `m${++seq}`,
    realm: REALM,
    username: '1001',
    originalContact: `<${uri(contact)}>`,
    contactUri: uri(contact),
    callId,
    expires: ends ? 0 : 600,
    eventUs: T0 + second * S,
    clockSlackUs: 999_999,
  };
}

class Rows {
  readonly rows = new Map<string, Binding>();
  stale = 0;
  duplicates = 0;

  run(events: RegistrationEvent[]): this {
    const plan = planBatch({
      events,
      current: [...this.rows.values()].map((b) => ({ ...b })),
      accountByRealm: new Map(),
    });
    for (const b of plan.bindings) this.rows.set(bindingKey(b), b);
    this.stale += plan.stale;
    this.duplicates += plan.duplicates;
    return this;
  }

  /** A reg_flush of the user, as endIn applies it: at `second`, guard at its whole second. */
  flush(second: number, reason: 'flushed' = 'flushed'): this {
    const atUs = T0 + second * S;
    for (const b of this.rows.values()) {
      if (b.endReason !== undefined) continue;
      b.endReason = b.expiresUs <= atUs ? 'expired' : reason;
      b.endedUs = Math.min(b.expiresUs, atUs);
      b.expires = 0;
      b.eventUs = Math.max(b.eventUs, Math.floor(atUs / S) * S);
    }
    return this;
  }

  live(second = 100): string[] {
    return [...this.rows.values()]
      .filter((b) => isLive(b, T0 + second * S))
      .map((b) => `${b.contactUri} ${b.callId}`)
      .sort();
  }
}

beforeEach(() => {
  seq = 0;
});

describe('a register superseded by its Call-ID from another contact', () => {
  it('stays stale when delivered again after a flush ended the newer binding (the lane spec’s case)', () => {
    const b10 = ev('b', 'c1', 10);
    const a9 = ev('a', 'c1', 9);
    const rows = new Rows().run([b10, a9]);
    expect(rows.stale).toBe(1);
    rows.flush(9); // dated by the last event before it in queue order: a9
    expect(rows.live()).toEqual([]);
    rows.run([b10, a9]); // the batch delivered again
    expect(rows.live()).toEqual([]);
    expect(rows.rows.get(`${REALM.toLowerCase()}\u00001001\u0000${uri('a')}`)).toBeUndefined();
  });

  it.each([
    ['unregistered', (r: Rows) => r.run([ev('b', 'c1', 11, 'unregister')])],
    ['expired', (r: Rows) => r.run([ev('b', 'c1', 11, 'expire')])],
    ['flushed', (r: Rows) => r.flush(11)],
  ])('stays stale after the newer binding ended as %s', (_reason, end) => {
    const rows = new Rows().run([ev('b', 'c1', 10)]);
    end(rows);
    rows.run([ev('a', 'c1', 9)]);
    expect(rows.stale).toBe(1);
    expect(rows.live()).toEqual([]);
  });

  it('is stale when older than a flush that ended the binding holding its Call-ID (Kamailio dropped it)', () => {
    // b registered at 10, the flush at 20 ended it; a register from a at 15 with the same
    // Call-ID, processed after the flush, was in Kamailio's location before the flush dropped it.
    const rows = new Rows().run([ev('b', 'c1', 10)]).flush(20);
    rows.run([ev('a', 'c1', 15)]);
    expect(rows.stale).toBe(1);
    expect(rows.live()).toEqual([]);
  });

  it('lets the phone register again after the flush, from either contact, with the same Call-ID', () => {
    const moved = new Rows().run([ev('b', 'c1', 10)]).flush(20);
    moved.run([ev('a', 'c1', 21)]);
    expect(moved.live()).toEqual([`${uri('a')} c1`]);
    const same = new Rows().run([ev('b', 'c1', 10)]).flush(20);
    same.run([ev('b', 'c1', 21)]);
    expect(same.live()).toEqual([`${uri('b')} c1`]);
  });

  it('lets a re-registration within the flush’s second stand (proxies stamp whole seconds)', () => {
    const rows = new Rows().run([ev('b', 'c1', 10)]).flush(20.4);
    rows.run([ev('a', 'c1', 20)]);
    expect(rows.stale).toBe(0);
    expect(rows.live()).toEqual([`${uri('a')} c1`]);
  });

  it('is not made stale by an ended binding of another Call-ID', () => {
    const rows = new Rows().run([ev('b', 'desk', 10)]).flush(11);
    rows.run([ev('a', 'softphone', 9)]);
    expect(rows.live()).toEqual([`${uri('a')} softphone`]);
  });

  it('is stale behind a tombstone of its Call-ID in the same batch as in a later one', () => {
    // An expire of contact a (no binding: reordered) at 15, then a register of contact b with
    // that Call-ID at 14: c2's last news is the expire. One batch must decide as two do.
    const events = [ev('a', 'c2', 15, 'expire'), ev('b', 'c2', 14)];
    const together = new Rows().run(events);
    const apart = new Rows().run([events[0]]).run([events[1]]);
    expect(together.live()).toEqual([]);
    expect(apart.live()).toEqual([]);
    expect([together.stale, apart.stale]).toEqual([1, 1]);
  });

  it('ends nothing as replaced when it comes back stale after the end', () => {
    // Redelivered after the unregister, the old register must not write history again.
    const a9 = ev('a', 'c1', 9);
    const rows = new Rows().run([ev('b', 'c1', 10), a9, ev('b', 'c1', 12, 'unregister')]);
    const before = JSON.stringify([...rows.rows.values()]);
    rows.run([a9]);
    expect(JSON.stringify([...rows.rows.values()])).toBe(before);
  });
});
