// An account's live count comes from counters that triggers keep (not from counting its
// bindings). Whatever changes the bindings — registrations, refreshes, unregisters, a flush,
// expiry before and after the sweep, a realm claimed by a new account, pruning, SQL of one's
// own — the count must always be exactly what counting the live bindings gives.
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { createDataSource, RegistrationQueries, RegistrationStore } from '@app/persistence';
import type { RegistrationEvent } from '@app/registrations';
import { resetDatabase, testPool } from '../support/database';
import { TEST_DATABASE_URL } from '../support/test-env';

let ds: DataSource;
let pool: Pool;
let store: RegistrationStore;
let queries: RegistrationQueries;
beforeAll(async () => {
  pool = testPool();
  await resetDatabase(pool);
  ds = createDataSource(TEST_DATABASE_URL, 3, 'registrations-test-live-count');
  await ds.initialize();
  store = new RegistrationStore(ds);
  queries = new RegistrationQueries(ds);
});
afterAll(async () => {
  await ds.destroy();
  await pool.end();
});

const A = 'c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0';
const B = 'd0d0d0d0d0d0d0d0d0d0d0d0d0d0d0d0';
const S = 1_000_000;
const NOW = Math.floor(Date.now() / 1000) * S;

const ev = (username: string, o: Partial<RegistrationEvent> = {}): RegistrationEvent => ({
  kind: 'register',
  origin: 'kazoo',
  realm: 'count-a.example.net',
  username,
  originalContact: `<sip:${username}@192.0.2.40:5060>`,
  contactUri: `sip:${username}@192.0.2.40:5060`,
  callId: `call-${username}`,
  expires: 600,
  eventUs: NOW,
  account: { id: A, name: 'Count A', realm: 'count-a.example.net' },
  ...o,
});

/** The count the API answers, and the count of live bindings, for both accounts. */
async function counts() {
  const truth = async (id: string) =>
    Number(
      (
        await pool.query(
          `SELECT count(*) AS n FROM registrations
            WHERE account_id = $1 AND ended_at IS NULL AND expires_at > now()`,
          [id],
        )
      ).rows[0].n,
    );
  return {
    api: [await queries.countLive(A), await queries.countLive(B)],
    live: [await truth(A), await truth(B)],
  };
}

async function expectExact(a: number, b: number) {
  expect(await counts()).toEqual({ api: [a, b], live: [a, b] });
}

it('stays exact through every writer', async () => {
  await expectExact(0, 0);

  // Registrations (several phones on one AOR), then refreshes: refreshes change nothing.
  await store.applyBatch([
    ev('1001'),
    ev('1001', { contactUri: 'sip:1001@192.0.2.41:5060', callId: 'other' }),
    ev('1002'),
    ev('1003'),
  ]);
  await expectExact(4, 0);
  await store.applyBatch([
    ev('1001', { kind: 'refresh', eventUs: NOW + S }),
    ev('1002', { kind: 'refresh', eventUs: NOW + S }),
  ]);
  await expectExact(4, 0);

  // An unregister, and a replacement (same Call-ID, new contact): one less, then no change.
  await store.applyBatch([ev('1003', { kind: 'unregister', expires: 0, eventUs: NOW + 2 * S })]);
  await expectExact(3, 0);
  await store.applyBatch([
    ev('1002', { contactUri: 'sip:1002@198.51.100.2:5070', eventUs: NOW + 3 * S }),
  ]);
  await expectExact(3, 0);

  // Events of a realm nobody owns are unassigned; an account claiming the realm takes them.
  const unowned = (u: string) =>
    ev(u, { realm: 'count-b.example.net', account: undefined, eventUs: NOW + 4 * S });
  await store.applyBatch([unowned('2001'), unowned('2002')]);
  await expectExact(3, 0);
  await store.applyBatch([
    ev('2003', {
      realm: 'count-b.example.net',
      account: { id: B, name: 'Count B', realm: 'count-b.example.net' },
      eventUs: NOW + 5 * S,
    }),
  ]);
  await expectExact(3, 3);

  // A flush of one user, then of a whole realm.
  await store.endBindings({ accountId: A, username: '1001' }, 'flushed');
  await expectExact(1, 3);
  await store.endBindings({ realm: 'count-b.example.net' }, 'flushed');
  await expectExact(1, 0);

  // Expiry: a binding past its expiry is not counted even before the sweep, nor after it.
  await pool.query(
    `UPDATE registrations SET expires_at = now() - interval '1 second'
      WHERE account_id = $1 AND ended_at IS NULL`,
    [A],
  );
  await expectExact(0, 0);
  expect((await store.expireDue())?.length).toBe(1);
  await expectExact(0, 0);

  // The phones come back; then SQL of one's own (an operator's DELETE, pruning) and TRUNCATE.
  await store.applyBatch([
    ev('1001', { eventUs: NOW + 10 * S }),
    ev('1005', { eventUs: NOW + 10 * S }),
  ]);
  await expectExact(2, 0);
  await pool.query(`DELETE FROM registrations WHERE username_key = '1005'`);
  await expectExact(1, 0);
  await store.prune(0, 30); // tombstones: ended rows, never counted
  await expectExact(1, 0);
  await pool.query(`TRUNCATE registrations CASCADE`);
  await expectExact(0, 0);
});

it('stays exact when two writers change the same account at once', async () => {
  const many = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => ev(`${prefix}${i}`, { eventUs: NOW + 20 * S }));
  await Promise.all([
    store.applyBatch(many('x', 300)),
    store.applyBatch(many('y', 300)),
    store.applyBatch(many('z', 300)),
  ]);
  await expectExact(900, 0);
  await Promise.all([
    store.endBindings({ accountId: A, username: 'x1' }, 'flushed'),
    store.applyBatch(
      many('y', 300).map((e) => ({
        ...e,
        kind: 'unregister' as const,
        expires: 0,
        eventUs: NOW + 21 * S,
      })),
    ),
  ]);
  await expectExact(599, 0);
});
