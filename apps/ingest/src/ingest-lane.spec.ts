// The lane against a model of the store (the domain's planBatch for events; for flushes, what
// RegistrationStore.endIn's SQL does, and applied_flushes as a set): whatever happens between
// delivery and ack — a database error and a retry, a batch split one by one to find a poison
// message, the connection lost or the process killed after the commit and the batch delivered
// again — the bindings end exactly as one clean pass leaves them, each flush applied once and
// dated as its first try. (test/ingest/redelivery.e2e-spec.ts does the same for real.)
import fc from 'fast-check';
import type { BatchResult, BindingSelector, EndOptions, RegistrationStore } from '@app/persistence';
import {
  Binding,
  bindingKey,
  EndReason,
  EventKind,
  laneOfAor,
  ParseResult,
  planBatch,
  RegistrationEvent,
  rejected,
} from '@app/registrations';
import { BatchContext, InboundMessage } from '@app/messaging';
import { MetricsService } from '@app/observability';
import { IngestLane, laneOf } from './ingest-lane';
import { IngestService } from './ingest.service';

const S = 1_000_000;
const T0 = Date.UTC(2026, 0, 1) * 1000;
const NOW_MS = T0 / 1000 + 3600_000; // the model's clock: an hour after the events
const REALM = 'lane.example.net';

class TransientError extends Error {
  readonly code = 'ECONNRESET';
}

/** What the store would hold, and what it is told: the same contract as RegistrationStore. */
class ModelStore {
  readonly bindings = new Map<string, Binding>();
  readonly appliedFlushes = new Set<string>();
  /** Each flush as applied (not when recognised as applied before). */
  readonly flushDatings: { msgId?: string; atUs: number; guardUs: number }[] = [];
  /** The next operation fails (before writing anything), once. */
  failNext: 'transient' | 'rejected' | undefined;
  /** Operations left before failNext strikes. */
  failAfterOps = 0;

  private op(events: readonly RegistrationEvent[] = []): void {
    if (this.failNext && this.failAfterOps-- <= 0) {
      const kind = this.failNext;
      this.failNext = undefined;
      throw kind === 'transient'
        ? new TransientError('connection reset')
        : new Error('check violation');
    }
    // A message the database refuses whatever the batch (as a 10 KB realm once was).
    if (events.some((e) => e.username === 'poison'))
      throw new Error('index row size exceeds maximum');
  }

  applyBatch(events: readonly RegistrationEvent[]): Promise<BatchResult> {
    this.op(events);
    const plan = planBatch({
      events,
      current: [...this.bindings.values()],
      accountByRealm: new Map(),
    });
    for (const b of plan.bindings) this.bindings.set(bindingKey(b), b);
    return Promise.resolve({
      written: plan.bindings.length,
      ended: plan.history.length,
      stale: plan.stale,
      duplicates: plan.duplicates,
      unassigned: plan.unassigned,
      changes: plan.changes,
    });
  }

  endBindings(sel: BindingSelector, reason: EndReason, opts: EndOptions): Promise<Binding[]> {
    this.op();
    return Promise.resolve(this.end(sel, reason, opts));
  }

  endBindingsOnce(
    id: string,
    sel: BindingSelector,
    reason: EndReason,
    opts: EndOptions,
  ): Promise<Binding[] | undefined> {
    this.op();
    if (this.appliedFlushes.has(id)) return Promise.resolve(undefined);
    this.appliedFlushes.add(id);
    return Promise.resolve(this.end(sel, reason, opts, id));
  }

  /** RegistrationStore.endIn: ended_at IS NULL, realm/username/Call-ID/contact/origin match. */
  private end(
    sel: BindingSelector,
    reason: EndReason,
    { atUs, guardUs }: EndOptions,
    msgId?: string,
  ) {
    this.flushDatings.push({ msgId, atUs: atUs!, guardUs: guardUs! });
    const ended: Binding[] = [];
    for (const b of this.bindings.values()) {
      if (b.endReason !== undefined || b.origin !== sel.origin) continue;
      if (b.realmKey !== sel.realm!.toLowerCase()) continue;
      if (sel.username !== undefined && b.usernameKey !== sel.username.toLowerCase()) continue;
      if (sel.callId !== undefined && b.callId !== sel.callId) continue;
      if (sel.contactUri !== undefined && b.contactUri !== sel.contactUri) continue;
      const expired = b.expiresUs <= atUs!;
      b.endedUs = Math.min(b.expiresUs, atUs!);
      b.endReason = expired ? 'expired' : reason;
      b.expires = 0;
      b.eventUs = Math.max(b.eventUs, guardUs!);
      ended.push(b);
    }
    return ended;
  }
}

// ---- messages ------------------------------------------------------------------------------

type Spec =
  | { kind: EventKind; user: string; contact: string; callId: string; second: number }
  | {
      kind: 'flush';
      user?: string;
      stampS?: number;
      /** Our extension: one phone of the user, by Call-ID, or by contact (`sip:user@<c>.…`). */
      callId?: string;
      contact?: string;
      /** Published without a Msg-ID (identified, if at all, by content + AMQP timestamp). */
      noMsgId?: boolean;
    }
  | { kind: 'echo' } // our own flush coming back
  | { kind: 'unparseable' }
  | { kind: 'poison'; second: number }; // parses, but the database refuses it

let seq = 0;
function message(spec: Spec): InboundMessage {
  const id = `m${++seq}`;
  let decoded: ParseResult;
  let timestamp: number | undefined;
  if (spec.kind === 'flush') {
    decoded = {
      ok: true,
      event: {
        kind: 'flush',
        realm: REALM,
        username: spec.user,
        ...(spec.callId !== undefined ? { callId: spec.callId } : {}),
        ...(spec.contact !== undefined
          ? { contactUri: `sip:${spec.user}@${spec.contact}.example.com` }
          : {}),
        msgId: spec.noMsgId ? undefined : id,
        ours: false,
      },
    };
    timestamp = spec.stampS === undefined ? undefined : T0 / S + spec.stampS;
  } else if (spec.kind === 'echo') {
    decoded = { ok: true, event: { kind: 'flush', realm: REALM, msgId: id, ours: true } };
  } else if (spec.kind === 'unparseable') {
    decoded = rejected('not_json', 'Unexpected token');
  } else {
    const { user, contact, callId, second, kind } =
      spec.kind === 'poison'
        ? { ...spec, kind: 'register' as const, user: 'poison', contact: 'p', callId: 'p' }
        : spec;
    const uri = `sip:${user}@${contact}.example.com`;
    const ends = kind === 'unregister' || kind === 'expire';
    decoded = {
      ok: true,
      event: {
        kind,
        origin: 'kazoo',
        msgId: id,
        realm: REALM,
        username: user,
        originalContact: `<${uri}>`,
        contactUri: uri,
        callId,
        expires: ends ? 0 : 3600,
        eventUs: T0 + second * S,
        clockSlackUs: 999_999,
      },
    };
  }
  return {
    content: Buffer.from(id),
    exchange: 'registrar',
    routingKey: id,
    headers: {},
    redelivered: false,
    decoded,
    timestamp,
  };
}

// ---- delivery, as BatchConsumer does it ------------------------------------------------------

/** What happens to one batch taken from the unacked head of the queue. */
type Fault =
  | { kind: 'none'; size: number }
  /** The database fails at the `atOp`-th operation of the batch: retried whole. */
  | { kind: 'transient'; size: number; atOp: number }
  /** A non-transient failure at `atOp`: the batch is applied again one message at a time. */
  | { kind: 'rejected'; size: number; atOp: number }
  /** Committed, then the connection is lost before the ack: delivered again, same lane. */
  | { kind: 'connectionLost'; size: number }
  /** Committed, then the process is killed before the ack: delivered again to a new lane. */
  | { kind: 'killed'; size: number };

const metrics = new MetricsService();
const quiet = { log: () => undefined };
const newLane = (store: ModelStore) =>
  new IngestLane(
    'q',
    () => rejected('not_json', 'x'),
    store as unknown as RegistrationStore,
    metrics,
    quiet,
    () => NOW_MS,
  );

async function process(
  store: ModelStore,
  lane: IngestLane,
  batch: InboundMessage[],
): Promise<void> {
  const verdict = await lane.apply(batch, () => []);
  if (verdict.outcome === 'retry') throw new TransientError(verdict.reason);
  if (verdict.outcome === 'failed' && batch.length > 1) {
    store.failNext = undefined; // the injected failure struck the batch, not one message
    for (const m of batch) await process(store, lane, [m]);
  }
}

async function deliver(
  store: ModelStore,
  messages: InboundMessage[],
  faults: Fault[],
): Promise<void> {
  let lane = newLane(store);
  let acked = 0;
  for (let f = 0; acked < messages.length; f++) {
    const fault: Fault = faults[f] ?? { kind: 'none', size: messages.length };
    const batch = messages.slice(acked, acked + Math.max(1, fault.size));
    // (A failure tied to no message can only strike a batch of several: alone, a message that
    // fails is a dead letter, and these are good messages.)
    if (fault.kind === 'transient' || (fault.kind === 'rejected' && batch.length > 1)) {
      store.failNext = fault.kind;
      store.failAfterOps = fault.atOp;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        await process(store, lane, batch);
        break;
      } catch (e) {
        if (!(e instanceof TransientError) || attempt > 3) throw e;
      }
    }
    store.failNext = undefined;
    if (fault.kind === 'killed') lane = newLane(store);
    if (fault.kind === 'killed' || fault.kind === 'connectionLost') continue; // not acked
    acked += batch.length;
  }
}

async function oneCleanPass(messages: InboundMessage[]): Promise<ModelStore> {
  const store = new ModelStore();
  await deliver(store, messages, []);
  return store;
}

function expectSameOutcome(actual: ModelStore, expected: ModelStore): void {
  expect([...actual.bindings.values()].sort(byKey)).toEqual(
    [...expected.bindings.values()].sort(byKey),
  );
  // Each flush applied once, dated as in the clean pass.
  expect(actual.flushDatings).toEqual(expected.flushDatings);
}
const byKey = (a: Binding, b: Binding) => (bindingKey(a) < bindingKey(b) ? -1 : 1);

// ---- the two cases the issue describes -------------------------------------------------------

const reg = (
  user: string,
  second: number,
  o: Partial<{ contact: string; callId: string; kind: EventKind }> = {},
) =>
  message({
    kind: o.kind ?? 'register',
    user,
    contact: o.contact ?? 'a',
    callId: o.callId ?? `${user}-1`,
    second,
  });

it('a committed [reg_flush of a user, their re-registration] delivered again after a kill leaves the phone registered', async () => {
  const messages = [
    reg('1001', 0),
    message({ kind: 'flush', user: '1001' }),
    reg('1001', 5, { callId: '1001-2' }),
  ];
  const store = new ModelStore();
  await deliver(store, messages, [
    { kind: 'none', size: 1 },
    { kind: 'killed', size: 2 },
  ]);
  const [b] = store.bindings.values();
  expect(b).toMatchObject({ username: '1001', callId: '1001-2', endReason: undefined });
  expectSameOutcome(store, await oneCleanPass(messages));
});

it('a batch retried after a database error dates its leading flush as its first try did: a phone re-registered after it is not stale', async () => {
  // 1002 registered at 0 and 3; the flush was published after 3; 1002 registers again at 2 (a
  // proxy's clock behind) and 1003 at 9, after the flush.
  const messages = [
    reg('1002', 0),
    reg('1002', 3, { kind: 'refresh' }),
    message({ kind: 'flush' }),
    reg('1002', 4, { callId: '1002-2', contact: 'b' }),
    reg('1003', 9),
  ];
  const store = new ModelStore();
  await deliver(store, messages, [
    { kind: 'none', size: 2 },
    { kind: 'transient', size: 3, atOp: 0 },
  ]);
  expect(store.flushDatings).toEqual([
    { msgId: expect.any(String), atUs: T0 + 3 * S, guardUs: T0 + 3 * S },
  ]);
  expect([...store.bindings.values()].filter((b) => !b.endReason).map((b) => b.username)).toEqual([
    '1002',
    '1003',
  ]);
  expectSameOutcome(store, await oneCleanPass(messages));
});

// ---- a reg_flush naming one phone; a reg_flush without a Msg-ID -----------------------------

const live = (store: ModelStore) =>
  [...store.bindings.values()]
    .filter((b) => !b.endReason)
    .map((b) => `${b.username}/${b.callId}`)
    .sort();

it('a reg_flush naming one Call-ID ends only that phone of the AOR; delivered again after a kill, the phone re-registered since stays', async () => {
  const messages = [
    reg('1004', 0, { callId: 'desk', contact: 'a' }),
    reg('1004', 1, { callId: 'soft', contact: 'b' }),
    message({ kind: 'flush', user: '1004', callId: 'desk' }),
    reg('1004', 5, { callId: 'desk', contact: 'a' }),
  ];
  const clean = await oneCleanPass(messages.slice(0, 3));
  expect(live(clean)).toEqual(['1004/soft']);
  expect([...clean.bindings.values()].find((b) => b.callId === 'desk')?.endReason).toBe('flushed');

  const store = new ModelStore();
  await deliver(store, messages, [
    { kind: 'none', size: 2 },
    { kind: 'killed', size: 2 },
  ]);
  expect(live(store)).toEqual(['1004/desk', '1004/soft']);
  expectSameOutcome(store, await oneCleanPass(messages));
});

it('a reg_flush naming one contact (no Call-ID) ends only the bindings with that contact URI', async () => {
  const store = await oneCleanPass([
    reg('1005', 0, { callId: 'one', contact: 'a' }),
    reg('1005', 1, { callId: 'two', contact: 'b' }),
    message({ kind: 'flush', user: '1005', contact: 'b' }),
  ]);
  expect(live(store)).toEqual(['1005/one']);
});

it('a reg_flush without a Msg-ID but with an AMQP timestamp is applied once: delivered again after a kill, the phone re-registered since stays', async () => {
  const messages = [
    reg('1006', 0),
    message({ kind: 'flush', user: '1006', stampS: 3, noMsgId: true }),
    reg('1006', 5, { callId: '1006-2' }),
  ];
  const store = new ModelStore();
  await deliver(store, messages, [
    { kind: 'none', size: 1 },
    { kind: 'killed', size: 2 },
  ]);
  expect(live(store)).toEqual(['1006/1006-2']);
  expect(store.flushDatings).toEqual([
    { msgId: expect.stringMatching(/^derived:/), atUs: T0 + 3 * S, guardUs: T0 + 3 * S },
  ]);
  expectSameOutcome(store, await oneCleanPass(messages));
});

it('known limit: a reg_flush with neither a Msg-ID nor an AMQP timestamp is applied again when delivered again', async () => {
  const messages = [
    reg('1007', 0),
    message({ kind: 'flush', user: '1007', noMsgId: true }),
    reg('1007', 5, { callId: '1007-2' }),
  ];
  const store = new ModelStore();
  await deliver(store, messages, [
    { kind: 'none', size: 1 },
    { kind: 'killed', size: 2 },
  ]);
  // Nothing tells the redelivery from a new flush: it ends the phone registered since (until
  // that phone's next REGISTER). docs/reliability.md.
  expect(live(store)).toEqual([]);
  expect(store.flushDatings).toHaveLength(2);
});

// ---- every kind, in every position, under every way of being delivered ---------------------

const kinds: Record<string, () => InboundMessage> = {
  register: () => reg('2001', 6, { contact: 'c' }),
  refresh: () => reg('2001', 6, { kind: 'refresh' }),
  unregister: () => reg('2001', 6, { kind: 'unregister' }),
  expire: () => reg('2002', 6, { kind: 'expire' }),
  'flush of a user': () => message({ kind: 'flush', user: '2001' }),
  'flush of the realm': () => message({ kind: 'flush' }),
  'flush with an AMQP timestamp': () => message({ kind: 'flush', user: '2002', stampS: 7 }),
  'flush of one phone by Call-ID': () => message({ kind: 'flush', user: '2001', callId: '2001-e' }),
  'flush of one phone by contact': () => message({ kind: 'flush', user: '2001', contact: 'a' }),
  'flush without a Msg-ID, with an AMQP timestamp': () =>
    message({ kind: 'flush', user: '2001', stampS: 7, noMsgId: true }),
  'our own flush (echo)': () => message({ kind: 'echo' }),
  unparseable: () => message({ kind: 'unparseable' }),
  'refused by the database': () => message({ kind: 'poison', second: 6 }),
};
const background = () => [
  reg('2001', 1),
  reg('2002', 2),
  reg('2001', 2, { contact: 'e', callId: '2001-e' }), // 2001's second phone
  reg('2003', 3, { callId: 'x' }),
  reg('2001', 7, { kind: 'refresh' }),
  reg('2003', 8, { callId: 'x', contact: 'b' }), // replaces 2003's contact a
  reg('2002', 9, { kind: 'unregister' }),
  reg('2001', 10, { contact: 'd' }),
];
const modes: Record<string, (n: number) => Fault[]> = {
  'in one batch': () => [],
  'one message per batch': (n) => Array.from({ length: n }, () => ({ kind: 'none', size: 1 })),
  'killed after committing all, delivered again': (n) => [{ kind: 'killed', size: n }],
  'connection lost after committing all': (n) => [{ kind: 'connectionLost', size: n }],
  'killed after each of two halves': (n) => [
    { kind: 'killed', size: n >> 1 },
    { kind: 'none', size: n >> 1 },
    { kind: 'killed', size: n },
  ],
  'database error at each step, retried': (n) =>
    Array.from({ length: 6 }, (_, i) => ({ kind: 'transient', size: n, atOp: i })),
  'split one by one after a failure at each step': (n) =>
    Array.from({ length: 6 }, (_, i) => ({ kind: 'rejected', size: n, atOp: i })),
};

describe.each(Object.keys(kinds))('%s', (kind) => {
  it.each(Object.keys(modes).flatMap((mode) => [0, 3, 8].map((at) => [mode, at] as const)))(
    '%s, at position %d, ends as one clean pass does',
    async (mode, at) => {
      const messages = background();
      messages.splice(at, 0, kinds[kind]());
      const store = new ModelStore();
      await deliver(store, messages, modes[mode](messages.length));
      expectSameOutcome(store, await oneCleanPass(messages));
    },
  );
});

// ---- any sequence, any faults ----------------------------------------------------------------

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom<EventKind>('register', 'refresh', 'refresh', 'unregister', 'expire'),
      user: fc.constantFrom('u1', 'u2', 'u3'),
      contact: fc.constantFrom('a', 'b'),
      callId: fc.constantFrom('c1', 'c2'),
      // Roughly in queue order, up to two seconds out of it (Kamailio stamps whole seconds).
      second: fc.constant(0),
      jitter: fc.integer({ min: -2, max: 0 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        kind: fc.constant('flush' as const),
        user: fc.constantFrom('u1', 'u2'),
        stampS: fc.integer({ min: 0, max: 40 }),
      },
      { requiredKeys: ['kind'] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom<Spec>(
      { kind: 'echo' },
      { kind: 'unparseable' },
      { kind: 'poison', second: 5 },
    ),
  },
);

const faultArb: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant('none' as const), size: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    kind: fc.constant('transient' as const),
    size: fc.integer({ min: 1, max: 12 }),
    atOp: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({
    kind: fc.constant('rejected' as const),
    size: fc.integer({ min: 1, max: 12 }),
    atOp: fc.integer({ min: 0, max: 5 }),
  }),
  fc.record({
    kind: fc.constant('connectionLost' as const),
    size: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({ kind: fc.constant('killed' as const), size: fc.integer({ min: 1, max: 12 }) }),
);

/**
 * The properties' check: the stream delivered under the faults leaves the store as one clean
 * pass would. Event times follow queue position (one second apart), a little out of order.
 */
async function endsAsOneCleanPass(specs: Spec[], faults: Fault[]): Promise<void> {
  const messages = specs.map((s, i) => {
    if ('jitter' in s) {
      const { jitter, ...e } = s as Spec & { jitter: number };
      return message({ ...e, second: 10 + i + jitter } as Spec);
    }
    return message(s);
  });
  const store = new ModelStore();
  await deliver(store, messages, faults);
  expectSameOutcome(store, await oneCleanPass(messages));
}

it('property: any stream of every kind, under any mix of retries, splits, lost connections and kills, ends as one clean pass', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(specArb, { minLength: 1, maxLength: 30 }),
      fc.array(faultArb, { maxLength: 12 }),
      endsAsOneCleanPass,
    ),
    { seed: 1313, numRuns: 400 },
  );
});

// The reg_flush kinds naming one phone, and those without a Msg-ID (identified by content and
// AMQP timestamp), in any stream under any faults, phones moving a Call-ID between contacts
// around them.
const oneContactArb: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constantFrom<EventKind>('register', 'refresh', 'refresh', 'unregister', 'expire'),
      user: fc.constantFrom('u1', 'u2'),
      contact: fc.constantFrom('a', 'b'),
      second: fc.constant(0),
      jitter: fc.integer({ min: -2, max: 0 }),
      callId: fc.constantFrom('c-a', 'c-b'),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        kind: fc.constant('flush' as const),
        user: fc.constantFrom('u1', 'u2'),
        stampS: fc.integer({ min: 0, max: 40 }),
        callId: fc.constantFrom('c-a', 'c-b'),
        contact: fc.constantFrom('a', 'b'),
        noMsgId: fc.boolean(),
      },
      { requiredKeys: ['kind', 'user', 'stampS'] },
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom<Spec>({ kind: 'flush' }, { kind: 'echo' }) },
);

it('property: reg_flush messages naming one phone, or without a Msg-ID but stamped, under any faults, end as one clean pass', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(oneContactArb, { minLength: 1, maxLength: 30 }),
      fc.array(faultArb, { maxLength: 12 }),
      endsAsOneCleanPass,
    ),
    { seed: 1314, numRuns: 400 },
  );
});

// Found by the property above with more kinds (a gap in the domain's planBatch, not in the
// lane): a register older than a binding's last event, with that binding's Call-ID but another
// contact, was stale only while that binding was live, so delivered again after a flush ended
// the binding it registered the other contact. The planner now counts the ended binding's news
// too (binding-planner.ts, `superseded`; binding-planner-superseded.spec.ts).
it('a stale register of a Call-ID from another contact, delivered again after a flush, stays stale', async () => {
  const messages = [
    message({ kind: 'register', user: 'u1', contact: 'b', callId: 'c1', second: 10 }),
    message({ kind: 'register', user: 'u1', contact: 'a', callId: 'c1', second: 9 }),
    message({ kind: 'flush' }),
  ];
  const store = new ModelStore();
  await deliver(store, messages, [{ kind: 'killed', size: 3 }]);
  expectSameOutcome(store, await oneCleanPass(messages));
});

// ---- lanes: the queue dealt to N lanes by AOR, flushes as barriers ---------------------------

/**
 * Delivers `messages` as BatchConsumer does with `lanes` lanes: each delivery gets its arrival
 * position and goes to laneOf's lane; between barriers (flushes) the lanes' batches (sizes from
 * `sizes`) commit in the order `pick` chooses, some after a transient failure and a retry; a
 * barrier is applied alone once every lane committed everything before it.
 */
async function deliverInLanes(
  store: ModelStore,
  messages: InboundMessage[],
  lanes: number,
  sizes: number[],
  pick: number[],
  transient: boolean[],
): Promise<void> {
  const service = new IngestService(store as unknown as RegistrationStore, metrics);
  service.clock = () => NOW_MS;
  const parse = () => rejected('not_json', 'x');
  let draw = 0;
  const next = <T>(xs: T[], fallback: T): T => (xs.length ? xs[draw++ % xs.length] : fallback);
  const run = async (batch: InboundMessage[], lane: number | 'barrier') => {
    for (let attempt = 0; ; attempt++) {
      if (attempt === 0 && next(transient, false)) {
        store.failNext = 'transient';
        store.failAfterOps = 0;
      }
      const ctx = new BatchContext(['q', () => [], lane]);
      const verdict = await service.ingest(batch, parse, ctx);
      store.failNext = undefined;
      if (verdict.outcome === 'retry') continue;
      if (verdict.outcome === 'failed' && batch.length > 1)
        for (const m of batch) await service.ingest([m], parse, ctx);
      return;
    }
  };
  const pending: InboundMessage[][] = Array.from({ length: lanes }, () => []);
  const drainLanes = async () => {
    while (pending.some((p) => p.length)) {
      const busy = pending.map((p, i) => [p, i] as const).filter(([p]) => p.length);
      const [p, i] = busy[next(pick, 0) % busy.length];
      await run(p.splice(0, Math.max(1, next(sizes, 1))), i);
    }
  };
  messages.forEach((m, position) => (m.position = position));
  for (const m of messages) {
    const to = laneOf(m, lanes);
    if (to !== 'barrier') {
      pending[to].push(m);
      continue;
    }
    await drainLanes();
    await run([m], 'barrier');
  }
  await drainLanes();
}

const withTimes = (specs: Spec[]) =>
  specs.map((s, i) => {
    if ('jitter' in s) {
      const { jitter, ...e } = s as Spec & { jitter: number };
      return message({ ...e, second: 10 + i + jitter } as Spec);
    }
    return message(s);
  });

it('lanes: a reg_flush is a barrier dated by the last event before it in queue order, whichever lane held it', async () => {
  // u1 and u2 fall into different lanes of 2; the event just before the flush is u2's.
  expect(laneOfAor(REALM, 'u1', 2)).not.toBe(laneOfAor(REALM, 'u2', 2));
  const messages = [
    message({ kind: 'register', user: 'u1', contact: 'a', callId: 'c1', second: 30 }),
    message({ kind: 'register', user: 'u2', contact: 'a', callId: 'c3', second: 20 }),
    message({ kind: 'flush' }),
    message({ kind: 'refresh', user: 'u1', contact: 'a', callId: 'c1', second: 20 }),
  ];
  const store = new ModelStore();
  await deliverInLanes(store, messages, 2, [1], [1, 0], []);
  expect(store.flushDatings).toEqual([
    { msgId: expect.any(String), atUs: T0 + 20 * S, guardUs: T0 + 20 * S },
  ]);
  expectSameOutcome(store, await oneCleanPass(messages));
});

it('property: any stream split over 2 to 6 lanes, any interleaving of their batches, ends as one lane ends it', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.oneof(
          { weight: 8, arbitrary: specArb },
          // More users than the other properties: enough AORs to spread over every lane.
          {
            weight: 4,
            arbitrary: fc.record({
              kind: fc.constantFrom<EventKind>('register', 'refresh', 'unregister'),
              user: fc.constantFrom('u4', 'u5', 'u6', 'u7', 'u8', 'U4'),
              contact: fc.constantFrom('a', 'b'),
              callId: fc.constantFrom('c1', 'c2'),
              second: fc.constant(0),
              jitter: fc.integer({ min: -2, max: 0 }),
            }),
          },
          { weight: 1, arbitrary: fc.constant<Spec>({ kind: 'flush' }) },
        ),
        { minLength: 1, maxLength: 40 },
      ),
      fc.integer({ min: 2, max: 6 }),
      fc.array(fc.integer({ min: 1, max: 8 }), { minLength: 1, maxLength: 10 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      fc.array(fc.boolean(), { maxLength: 10 }),
      async (specs, lanes, sizes, pick, transient) => {
        const messages = withTimes(specs);
        const store = new ModelStore();
        await deliverInLanes(store, messages, lanes, sizes, pick, transient);
        expectSameOutcome(store, await oneCleanPass(messages));
      },
    ),
    { seed: 1717, numRuns: 400 },
  );
});
