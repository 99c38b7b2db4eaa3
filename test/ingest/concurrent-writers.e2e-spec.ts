// The ingest writes optimistically: it reads the touched bindings without row locks and writes
// only rows nobody changed since. Here another writer (a flush, the other queue) holds a binding
// in an open transaction while a batch about it is being written: the batch must wait, notice
// the change, read again and plan on what was committed — never overwrite it.
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { Pool, PoolClient } from 'pg';
import { createDataSource, RegistrationStore } from '@app/persistence';
import type { RegistrationEvent } from '@app/registrations';
import { resetDatabase, testPool } from '../support/database';
import { eventually } from '../support/poll';
import { TEST_DATABASE_URL } from '../support/test-env';

let ds: DataSource;
let store: RegistrationStore;
let pool: Pool;
beforeAll(async () => {
  pool = testPool();
  await resetDatabase(pool);
  ds = createDataSource(TEST_DATABASE_URL, 3, 'registrations-test-concurrency');
  await ds.initialize();
  store = new RegistrationStore(ds);
});
afterAll(async () => {
  await ds.destroy();
  await pool.end();
});

const T0 = Date.now() * 1000;
const event = (o: Partial<RegistrationEvent> & { username: string }): RegistrationEvent => ({
  kind: 'register',
  origin: 'kazoo',
  realm: 'race.example.net',
  originalContact: `<sip:${o.username}@192.0.2.10:5060>`,
  contactUri: `sip:${o.username}@192.0.2.10:5060`,
  callId: `call-${o.username}`,
  expires: 600,
  eventUs: T0,
  ...o,
});

/** Resolves once a backend of the store is waiting for a row lock. */
async function storeIsWaiting(): Promise<void> {
  await eventually(
    () =>
      pool
        .query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
            WHERE application_name = 'registrations-test-concurrency' AND wait_event_type = 'Lock'`,
        )
        .then((r) => r.rows[0].n as number),
    (n) => n > 0,
    { what: 'the batch to wait for the other writer' },
  );
}

/**
 * Another writer runs `sql` in a transaction it keeps open; the batch of `events` is applied
 * meanwhile; once the batch waits for that writer's row, the writer commits. The batch's result.
 */
async function batchRacing(sql: string, params: unknown[], events: RegistrationEvent[]) {
  await other.query('BEGIN');
  await other.query(sql, params);
  const batch = store.applyBatch(events);
  await storeIsWaiting();
  await other.query('COMMIT');
  return batch;
}

async function row(username: string) {
  const { rows } = await pool.query(
    `SELECT ended_at, end_reason, event_us::float8 AS event_us, refresh_count FROM registrations
      WHERE realm_key = 'race.example.net' AND username_key = $1`,
    [username],
  );
  return rows;
}

let other: PoolClient;
beforeEach(async () => {
  other = await pool.connect();
});
afterEach(async () => {
  await other.query('ROLLBACK').catch(() => undefined);
  other.release();
});

it('a flush committed while a stale refresh is being written wins: the binding stays flushed', async () => {
  await store.applyBatch([event({ username: 'flushed' })]);
  const conflictsBefore = store.writeConflicts;

  const result = await batchRacing(
    `UPDATE registrations SET ended_at = now(), end_reason = 'flushed', expires = 0, event_us = $1
      WHERE realm_key = 'race.example.net' AND username_key = 'flushed'`,
    [T0 + 10_000_000],
    [event({ username: 'flushed', kind: 'refresh', eventUs: T0 + 5_000_000 })],
  );

  expect(result.stale).toBe(1);
  expect(await row('flushed')).toEqual([
    expect.objectContaining({ end_reason: 'flushed', event_us: T0 + 10_000_000 }),
  ]);
  expect(store.writeConflicts).toBe(conflictsBefore + 1);
});

it('a refresh newer than the concurrent change is applied on top of it, once', async () => {
  await store.applyBatch([event({ username: 'newer' })]);
  const result = await batchRacing(
    `UPDATE registrations SET refresh_count = refresh_count + 1, event_us = $1
      WHERE realm_key = 'race.example.net' AND username_key = 'newer'`,
    [T0 + 1_000_000],
    [event({ username: 'newer', kind: 'refresh', eventUs: T0 + 2_000_000 })],
  );

  expect(result.stale).toBe(0);
  const [r] = await row('newer');
  expect(r.end_reason).toBeNull();
  expect(r.event_us).toBe(T0 + 2_000_000);
  expect(r.refresh_count).toBe(2); // the other writer's refresh and ours
});

it('a binding inserted by another writer meanwhile is not inserted twice nor rolled back', async () => {
  const result = await batchRacing(
    `INSERT INTO registrations (realm_key, username_key, contact_uri, origin, realm, username,
        original_contact, expires, event_us, first_registered_at, last_registered_at, expires_at)
     VALUES ('race.example.net', 'inserted', 'sip:inserted@192.0.2.10:5060', 'kazoo',
        'race.example.net', 'inserted', '<sip:inserted@192.0.2.10:5060>', 600, $1::bigint,
        to_timestamp($1::bigint / 1e6), to_timestamp($1::bigint / 1e6), to_timestamp($1::bigint / 1e6) + interval '600 s')`,
    [T0 + 3_000_000],
    [event({ username: 'inserted', eventUs: T0 + 1_000_000 })],
  );

  expect(result.stale).toBe(1);
  expect(await row('inserted')).toEqual([
    expect.objectContaining({ end_reason: null, event_us: T0 + 3_000_000 }),
  ]);
});
