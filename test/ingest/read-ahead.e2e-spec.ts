// A lane's next batch is read while its current batch is written, then planned on that read
// with the current batch's writes laid over it. Whatever the timing of that read, the next
// batch must apply exactly as if it had been read after the commit: the current batch's new
// and changed bindings seen (no write conflict, no duplicate), other writers' changes caught.
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { createDataSource, ReadAhead, RegistrationStore } from '@app/persistence';
import type { RegistrationEvent } from '@app/registrations';
import { resetDatabase, testPool } from '../support/database';
import { TEST_DATABASE_URL } from '../support/test-env';

let ds: DataSource;
let store: RegistrationStore;
let pool: Pool;
beforeAll(async () => {
  pool = testPool();
  await resetDatabase(pool);
  ds = createDataSource(TEST_DATABASE_URL, 4, 'registrations-test-read-ahead');
  await ds.initialize();
  store = new RegistrationStore(ds);
});
afterAll(async () => {
  await ds.destroy();
  await pool.end();
});

// Each test is its own lane, with the read-ahead a lane owns (IngestLane in apps/ingest).
const [q1, q2, q3, q4, q5] = Array.from({ length: 5 }, () => new ReadAhead());

const S = 1_000_000;
const T0 = Math.floor(Date.now() / 1000) * S;
let realmNo = 0;
let realm = '';
beforeEach(() => {
  realm = `ahead${++realmNo}.example.net`;
});

const event = (o: Partial<RegistrationEvent> & { username: string }): RegistrationEvent => {
  const contactUri = o.contactUri ?? `sip:${o.username}@192.0.2.20:5060`;
  return {
    kind: 'register',
    origin: 'kazoo',
    realm,
    originalContact: `<${contactUri}>`,
    contactUri,
    callId: `call-${o.username}`,
    userAgent: 'Polycom VVX 411',
    expires: 300,
    eventUs: T0,
    ...o,
  };
};

async function rows() {
  const { rows } = await pool.query(
    `SELECT username, contact_uri, refresh_count, end_reason, event_us::float8 AS event_us
       FROM registrations WHERE realm_key = $1 ORDER BY username, contact_uri`,
    [realm],
  );
  return rows;
}

async function historyRows() {
  const { rows } = await pool.query(
    `SELECT username, end_reason, user_agent FROM registration_history WHERE realm_key = $1 ORDER BY id`,
    [realm],
  );
  return rows;
}

it('the next batch sees what the current one registered, refreshed and ended', async () => {
  const conflicts = store.writeConflicts;
  const second = [
    event({ username: 'a', kind: 'refresh', eventUs: T0 + 60 * S }),
    event({ username: 'b', kind: 'unregister', expires: 0, eventUs: T0 + 60 * S }),
    event({ username: 'c', eventUs: T0 + 60 * S }),
  ];
  await store.applyBatch([event({ username: 'a' }), event({ username: 'b' })], {
    readAhead: q1,
    next: () => second,
  });
  const result = await store.applyBatch(second, { readAhead: q1 });

  expect(result.stale + result.duplicates).toBe(0);
  expect(store.writeConflicts).toBe(conflicts); // the read ahead was complete: nothing to redo
  expect(await rows()).toEqual([
    expect.objectContaining({ username: 'a', refresh_count: 1, end_reason: null }),
    expect.objectContaining({ username: 'b', end_reason: 'unregistered' }),
    expect.objectContaining({ username: 'c', refresh_count: 0, end_reason: null }),
  ]);
  expect(await historyRows()).toEqual([
    { username: 'b', end_reason: 'unregistered', user_agent: 'Polycom VVX 411' },
  ]);
});

it('a batch refreshing what the batch before it inserted is neither duplicated nor conflicting, many times over', async () => {
  const conflicts = store.writeConflicts;
  const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
  const round = (n: number) =>
    users.map((username) =>
      event({ username, kind: n === 0 ? 'register' : 'refresh', eventUs: T0 + n * 30 * S }),
    );
  for (let n = 0; n < 5; n++)
    await store.applyBatch(round(n), { readAhead: q2, next: () => round(n + 1) });

  const stored = await rows();
  expect(stored).toHaveLength(200);
  expect(stored.every((r) => r.refresh_count === 4 && r.end_reason === null)).toBe(true);
  expect(store.writeConflicts).toBe(conflicts);
});

it('messages that were not yet received when reading ahead are read when their batch comes', async () => {
  const next = [event({ username: 'early', kind: 'refresh', eventUs: T0 + 10 * S })];
  await store.applyBatch([event({ username: 'early' }), event({ username: 'late' })], {
    readAhead: q3,
    next: () => next,
  });
  // The batch holds more than was seen: 'late' (stored, but not read ahead) ends here.
  await store.applyBatch(
    [...next, event({ username: 'late', kind: 'unregister', expires: 0, eventUs: T0 + 10 * S })],
    { readAhead: q3 },
  );
  expect(await rows()).toEqual([
    expect.objectContaining({ username: 'early', refresh_count: 1, end_reason: null }),
    expect.objectContaining({ username: 'late', end_reason: 'unregistered' }),
  ]);
  expect(await historyRows()).toEqual([
    { username: 'late', end_reason: 'unregistered', user_agent: 'Polycom VVX 411' },
  ]);
});

it("another writer's change between two batches is not overwritten by the read-ahead's older view", async () => {
  const next = [event({ username: 'f', kind: 'refresh', eventUs: T0 + 5 * S })];
  await store.applyBatch([event({ username: 'f' })], { readAhead: q4, next: () => next });
  // A flush (the API, another system) ends the binding after the read ahead was taken.
  await store.endBindings({ realm, username: 'f' }, 'flushed', { atUs: T0 + 20 * S });
  const conflicts = store.writeConflicts;

  const result = await store.applyBatch(next, { readAhead: q4 });

  expect(result.stale).toBe(1); // older than the flush: it must not bring the binding back
  expect(await rows()).toEqual([expect.objectContaining({ username: 'f', end_reason: 'flushed' })]);
  expect(store.writeConflicts).toBe(conflicts + 1);
});

it('a read ahead for messages that never come as a batch changes nothing', async () => {
  await store.applyBatch([event({ username: 'x' })], {
    readAhead: q5,
    next: () => [event({ username: 'x', kind: 'unregister', expires: 0, eventUs: T0 + S })],
  });
  // The lane's next batch is something else entirely (the previous one was redelivered).
  await store.applyBatch([event({ username: 'y', eventUs: T0 + 2 * S })], { readAhead: q5 });
  expect(await rows()).toEqual([
    expect.objectContaining({ username: 'x', end_reason: null }),
    expect.objectContaining({ username: 'y', end_reason: null }),
  ]);
});
