// What a reconciliation adds, ends and keeps, and its race rules. Answers are shaped as
// kazoo-configs-kamailio's registrar-sync-role.cfg publishes them (event_route
// kazoo:consumer-event-directory-reg-sync: Status "Success", First-Registration false,
// Expires = location.expires - $TS) and read by the same parser as any reg_success.
import { Binding, bindingFromEvent } from './binding';
import { parseKazooMessage } from './kazoo-event.parser';
import { planReconcile, ProxySnapshot, raceCutoffUs } from './reconcile-plan';
import type { RegistrationEvent } from './registration-event';

const NODE = 'kamailio@proxy1';
const OTHER = 'kamailio@proxy2';
const T0 = 1_796_000_000; // Unix seconds: the reg_sync goes out at T0 + 0.5 s
const START_US = T0 * 1e6 + 500_000;
const NOW_US = START_US + 200_000;

/** A registrar-sync-role answer for user@realm with that contact, `left` seconds to go. */
function answer(user: string, left = 300, callId = `${user}-call`, node = NODE): RegistrationEvent {
  const r = parseKazooMessage(
    JSON.stringify({
      'Event-Category': 'directory',
      'Event-Name': 'reg_success',
      Status: 'Success',
      'Event-Timestamp': T0,
      Expires: left,
      'First-Registration': false,
      Contact: `<sip:${user}@10.0.0.1:5060>`,
      'Call-ID': callId,
      Realm: 'example.net',
      Username: user,
      Node: node,
      'Msg-ID': `${user}-${Math.random()}`,
    }),
  );
  if (!r.ok || r.event.kind === 'flush') throw new Error('not a reg_success');
  return r.event;
}

let nextId = 1;
/** A row as the store holds it: registered by Kamailio `node` at `atS` for `expires` s. */
function row(
  user: string,
  { atS = T0 - 100, expires = 400, node = NODE, origin = 'kazoo', ended = false } = {},
): Binding {
  const e = answer(user, expires, `${user}-call`, node);
  const b = bindingFromEvent(
    { ...e, eventUs: atS * 1e6, origin: origin as Binding['origin'] },
    'example.net',
    user,
  );
  b.id = nextId++;
  if (ended) {
    b.endReason = 'unregistered';
    b.endedUs = atS * 1e6;
  }
  return b;
}

const snapshot = (held: RegistrationEvent[], complete = [NODE]): ProxySnapshot => ({
  startedUs: START_US,
  held,
  complete,
  rejected: [],
});

describe('planReconcile', () => {
  it('adds what the proxy holds and the table lacks (or has ended)', () => {
    const gone = row('bob', { ended: true });
    const plan = planReconcile(snapshot([answer('alice'), answer('bob')]), [gone], {
      nowUs: NOW_US,
    });
    expect(plan.apply.map((e) => e.username)).toEqual(['alice', 'bob']);
    expect(plan.end).toEqual([]);
  });

  it('keeps a live binding whose expiry and Call-ID already agree, refreshes one that does not', () => {
    // Registered at T0-100 for 400 s: Kamailio has 300 s left at T0.
    const same = row('alice', { atS: T0 - 100, expires: 400 });
    // Refreshed on the proxy while its event was lost: 600 s left, the table says 300.
    const missed = row('bob', { atS: T0 - 100, expires: 400 });
    const plan = planReconcile(
      snapshot([answer('alice', 300), answer('bob', 600)]),
      [same, missed],
      {
        nowUs: NOW_US,
      },
    );
    expect(plan.kept).toBe(1);
    expect(plan.apply.map((e) => e.username)).toEqual(['bob']);
    // Same contact, new Call-ID (the phone restarted): applied, the planner decides.
    const restarted = planReconcile(snapshot([answer('alice', 300, 'new-call')]), [same], {
      nowUs: NOW_US,
    });
    expect(restarted.apply).toHaveLength(1);
  });

  it('ends the live Kamailio bindings a complete proxy no longer holds', () => {
    const held = row('alice');
    const lost = row('bob');
    const plan = planReconcile(snapshot([answer('alice', 300)]), [held, lost], { nowUs: NOW_US });
    expect(plan.end).toEqual([lost.id]);
  });

  it("never ends another proxy's bindings, nor those of a proxy that did not answer in full", () => {
    const elsewhere = row('carol', { node: OTHER });
    const plan = planReconcile(snapshot([]), [elsewhere], { nowUs: NOW_US });
    expect(plan.end).toEqual([]);
    const silent = planReconcile(snapshot([], []), [row('dave')], { nowUs: NOW_US });
    expect(silent.end).toEqual([]);
  });

  it('never ends a FreeSWITCH binding from a Kamailio sync', () => {
    const fs = row('erin', { origin: 'freeswitch' });
    expect(planReconcile(snapshot([]), [fs], { nowUs: NOW_US }).end).toEqual([]);
  });

  it('leaves alone a binding already expired or ended (the sweeper and the ingest own those)', () => {
    const expired = row('frank', { atS: T0 - 1000, expires: 60 });
    const ended = row('gina', { ended: true });
    expect(planReconcile(snapshot([]), [expired, ended], { nowUs: NOW_US }).end).toEqual([]);
  });

  describe('races with events ingested during the sync', () => {
    it('does not end a binding registered after the reg_sync went out', () => {
      // Kamailio stamps whole seconds: an event of the sync's second reads as T0.
      const fresh = row('henry', { atS: T0 });
      const plan = planReconcile(snapshot([]), [fresh], { nowUs: NOW_US });
      expect(plan.end).toEqual([]);
      expect(plan.raced).toBe(1);
    });

    it('does not bring back a binding unregistered after the reg_sync went out', () => {
      const unregistered = row('ivy', { atS: T0, ended: true });
      const plan = planReconcile(snapshot([answer('ivy')]), [unregistered], { nowUs: NOW_US });
      expect(plan.apply).toEqual([]);
      expect(plan.raced).toBe(1);
    });

    it('counts the second before the sync as racing too (proxy clocks), not earlier ones', () => {
      expect(raceCutoffUs(START_US)).toBe((T0 - 1) * 1e6);
      const justBefore = row('jack', { atS: T0 - 1 });
      const earlier = row('kate', { atS: T0 - 2 });
      const plan = planReconcile(snapshot([]), [justBefore, earlier], { nowUs: NOW_US });
      expect(plan.end).toEqual([earlier.id]);
    });
  });

  it('applies a contact answered twice once', () => {
    expect(
      planReconcile(snapshot([answer('lea'), answer('lea')]), [], { nowUs: NOW_US }).apply,
    ).toHaveLength(1);
  });
});
