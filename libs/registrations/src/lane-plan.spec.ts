import fc from 'fast-check';
import {
  flushIdentity,
  flushTiming,
  INITIAL_LANE_STATE,
  isFlushStep,
  LaneMessage,
  planLane,
} from './lane-plan';
import { rejected } from './parse-result';
import type { FlushCommand, RegistrationEvent } from './registration-event';

const S = 1_000_000;
const T0 = Date.UTC(2026, 0, 1) * 1000;

const event = (eventUs: number, username = 'u1'): LaneMessage => ({
  parsed: {
    ok: true,
    event: {
      kind: 'register',
      origin: 'kazoo',
      msgId: `m-${eventUs}-${username}`,
      realm: 'r.example',
      username,
      originalContact: `sip:${username}@192.0.2.1`,
      contactUri: `sip:${username}@192.0.2.1`,
      expires: 300,
      eventUs,
    } satisfies RegistrationEvent,
  },
});
const flush = (o: Partial<FlushCommand> = {}, timestampS?: number): LaneMessage => ({
  parsed: { ok: true, event: { kind: 'flush', realm: 'r.example', ours: false, ...o } },
  timestampS,
});
const poison: LaneMessage = { parsed: rejected('not_json', 'Unexpected token') };

describe('planLane', () => {
  it('dates a flush by the last event before it in the queue, across batches', () => {
    const first = planLane(INITIAL_LANE_STATE, [event(T0 + 5 * S), event(T0 + 3 * S)]);
    expect(first.next).toEqual({ lastEventUs: T0 + 3 * S, lastEventPos: -1 }); // the last, not the latest
    const second = planLane(first.next, [flush({ msgId: 'f' }), event(T0 + 9 * S)]);
    expect(second.steps[0]).toEqual({
      flush: expect.objectContaining({ msgId: 'f' }),
      publishedUs: T0 + 3 * S,
      id: 'f', // its Msg-ID identifies it
    });
    expect(second.next).toEqual({ lastEventUs: T0 + 9 * S, lastEventPos: -1 });
  });

  it('prefers a plausible AMQP timestamp; ignores an implausible one', () => {
    const state = { lastEventUs: T0, lastEventPos: 0 };
    const stamped = planLane(state, [flush({}, T0 / 1e6 + 7)]);
    expect(stamped.steps).toEqual([
      { flush: expect.anything(), publishedUs: T0 + 7 * S, id: expect.stringMatching(/^derived:/) },
    ]);
    const wrongUnit = planLane(state, [flush({}, 12)]);
    expect(wrongUnit.steps).toEqual([{ flush: expect.anything(), publishedUs: T0 }]);
  });

  it('a flush before any event since start-up has no date (0): it takes effect when processed', () => {
    const plan = planLane(INITIAL_LANE_STATE, [flush()]);
    expect(plan.steps).toEqual([{ flush: expect.anything(), publishedUs: 0 }]);
    expect(flushTiming(0, T0)).toEqual({ atUs: T0, guardUs: 0 });
    expect(flushTiming(T0 + 1.5 * S, T0 + 60 * S)).toEqual({ atUs: T0 + 1.5 * S, guardUs: T0 + S });
    expect(flushTiming(T0 + 90 * S, T0 + 60 * S)).toEqual({
      atUs: T0 + 60 * S,
      guardUs: T0 + 60 * S,
    });
  });

  it('splits runs around flushes, drops our own echoes, lists dead letters by index', () => {
    const plan = planLane(INITIAL_LANE_STATE, [
      event(T0 + S),
      poison,
      flush({ ours: true }),
      event(T0 + 2 * S),
      flush({ msgId: 'f' }),
      event(T0 + 3 * S),
    ]);
    expect(plan.rejected).toEqual([{ index: 1, reason: 'not_json: Unexpected token' }]);
    expect(
      plan.steps.map((s) => (isFlushStep(s) ? `F@${s.publishedUs - T0}` : s.events.length)),
    ).toEqual([2, `F@${2 * S}`, 1]);
  });

  const message = fc.oneof(
    fc.integer({ min: 0, max: 100 }).map((s) => event(T0 + s * S)),
    fc.constant(poison),
    fc
      .record({
        user: fc.option(fc.constantFrom('u1', 'u2')),
        stamp: fc.option(fc.integer({ min: 0, max: 100 })),
      })
      .map(({ user, stamp }) =>
        flush({ username: user ?? undefined }, stamp === null ? undefined : T0 / 1e6 + stamp),
      ),
    fc.constant(flush({ ours: true })),
  );

  it('property: a batch split anywhere (state threaded through the parts) plans exactly as whole', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 0, max: 50 })
          .map((s) => ({ lastEventUs: s === 0 ? 0 : T0 + s * S, lastEventPos: s - 1 })),
        fc.array(message, { maxLength: 30 }),
        fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 30 }),
        (state, messages, cuts) => {
          const whole = planLane(state, messages);
          const flat = (p: ReturnType<typeof planLane>) =>
            p.steps.flatMap((s): unknown[] =>
              isFlushStep(s) ? [s] : s.events.map((e) => e.msgId),
            );
          let s = state;
          const parts: unknown[] = [];
          for (let i = 0, c = 0; i < messages.length; c++) {
            const n = cuts[c] ?? messages.length;
            const plan = planLane(s, messages.slice(i, i + n));
            parts.push(...flat(plan));
            s = plan.next;
            i += n;
          }
          expect(parts).toEqual(flat(whole));
          expect(s).toEqual(whole.next);
          // Planning is pure: the same state and messages plan the same (a retry).
          expect(planLane(state, messages)).toEqual(whole);
        },
      ),
      { seed: 13, numRuns: 500 },
    );
  });

  it('identifies a flush by its Msg-ID, else by what it flushes and its AMQP timestamp, else not at all', () => {
    const at = T0 / 1e6 + 7;
    const [withMsgId] = planLane(INITIAL_LANE_STATE, [flush({ msgId: 'f' }, at)]).steps;
    expect(withMsgId).toMatchObject({ id: 'f' });
    const [unstamped] = planLane(INITIAL_LANE_STATE, [flush({ username: 'u1' })]).steps;
    expect(unstamped).not.toHaveProperty('id'); // applied again if delivered again
    const [wrongUnit] = planLane(INITIAL_LANE_STATE, [flush({ username: 'u1' }, 12)]).steps;
    expect(wrongUnit).not.toHaveProperty('id');
  });
});

describe('flushIdentity (a reg_flush without a Msg-ID)', () => {
  const at = T0 / 1e6 + 7;
  const f = (o: Partial<FlushCommand> = {}): FlushCommand => ({
    kind: 'flush',
    realm: 'r.example',
    username: '1001',
    ours: false,
    ...o,
  });

  it('is the same for the same message delivered again (same content, same AMQP timestamp)', () => {
    expect(flushIdentity(f(), at)).toBe(flushIdentity(f(), at));
    // Realm and username compare as the store compares them (case-insensitively).
    expect(flushIdentity(f({ realm: 'R.Example', username: '1001' }), at)).toBe(
      flushIdentity(f(), at),
    );
    // The timestamp is whole seconds; a fraction (from no broker we know) changes nothing.
    expect(flushIdentity(f(), at + 0.5)).toBe(flushIdentity(f(), at));
  });

  it('differs for another second or other bindings', () => {
    const ids = [
      flushIdentity(f(), at),
      flushIdentity(f(), at + 1),
      flushIdentity(f({ username: '1002' }), at),
      flushIdentity(f({ username: undefined }), at),
      flushIdentity(f({ realm: 'other.example' }), at),
      flushIdentity(f({ callId: 'c1' }), at),
      flushIdentity(f({ callId: 'c2' }), at),
      flushIdentity(f({ contactUri: 'sip:1001@192.0.2.1' }), at),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('does not exist without a plausible timestamp: content alone would merge later flushes', () => {
    expect(flushIdentity(f(), undefined)).toBeUndefined();
    expect(flushIdentity(f(), 12)).toBeUndefined();
  });
});
