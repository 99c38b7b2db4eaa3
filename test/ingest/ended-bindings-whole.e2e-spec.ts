// The ingest reads the bindings a batch only refreshes with just the fields planning needs;
// a binding that ends goes to history whole. Each way a stored binding can end in a later batch
// must therefore leave, in registration_history, the binding exactly as it was stored (plus
// how it ended), whatever the batch read first.
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { createDataSource, RegistrationStore } from '@app/persistence';
import type { RegistrationEvent } from '@app/registrations';
import { resetDatabase, testPool } from '../support/database';
import { TEST_DATABASE_URL } from '../support/test-env';

let ds: DataSource;
let store: RegistrationStore;
let pool: Pool;
beforeAll(async () => {
  pool = testPool();
  await resetDatabase(pool);
  ds = createDataSource(TEST_DATABASE_URL, 2, 'registrations-test-whole');
  await ds.initialize();
  store = new RegistrationStore(ds);
});
afterAll(async () => {
  // Its bindings are live for minutes: leave none behind for suites that look across realms
  // (the sipXcom lookups by address as a super-admin).
  await pool?.query(`DELETE FROM registrations WHERE realm_key = $1`, [REALM]);
  await ds?.destroy();
  await pool?.end();
});

const S = 1_000_000;
const T0 = Math.floor(Date.now() / 1000) * S;
const REALM = 'whole.example.net';
const event = (o: Partial<RegistrationEvent> & { username: string }): RegistrationEvent => {
  const contactUri = o.contactUri ?? `sip:${o.username}@192.0.2.10:5060`;
  return {
    kind: 'register',
    origin: 'kazoo',
    realm: REALM,
    originalContact: `<${contactUri};transport=udp>`,
    contactUri,
    contactIp: '192.0.2.10',
    contactPort: 5060,
    callId: `call-${o.username}`,
    userAgent: 'Yealink SIP-T46S 66.86.0.15',
    expires: 60,
    eventUs: T0,
    sourceIp: '198.51.100.7',
    sourcePort: 40123,
    proxyPath: 'sip:10.0.0.1:5060;lr',
    registrarNode: 'kamailio@proxy1',
    fromUser: o.username,
    fromHost: REALM,
    toUser: o.username,
    toHost: REALM,
    authorizingId: 'd1c6a3b4e5f60718293a4b5c6d7e8f90',
    authorizingType: 'device',
    mac: '805ec0aabbcc',
    ...o,
  };
};

/** Every column of the stored binding but those that change when it ends. */
async function storedRow(username: string, contactUri?: string) {
  const { rows } = await pool.query(
    `SELECT * FROM registrations WHERE realm_key = $1 AND username_key = $2
        AND ($3::text IS NULL OR contact_uri = $3)`,
    [REALM, username, contactUri ?? null],
  );
  expect(rows).toHaveLength(1);
  // Dropped: the columns an end changes (and id, which history keeps as registration_id), and
  // the sweeper's bound (sweep_at), which is not part of a binding.
  const row = { ...rows[0], registration_id: rows[0].id };
  for (const k of [
    'id',
    'ended_at',
    'end_reason',
    'expires',
    'event_us',
    'last_msg_id',
    'sweep_at',
  ])
    delete row[k];
  return row;
}

async function historyRows(username: string) {
  const { rows } = await pool.query(
    `SELECT * FROM registration_history WHERE realm_key = $1 AND username_key = $2 ORDER BY id`,
    [REALM, username],
  );
  return rows;
}

it('a binding unregistered in a later batch goes to history whole', async () => {
  await store.applyBatch([event({ username: 'unreg' })]);
  const before = await storedRow('unreg');
  await store.applyBatch([event({ username: 'unreg', kind: 'unregister', eventUs: T0 + 5 * S })]);
  expect(await historyRows('unreg')).toEqual([
    expect.objectContaining({ ...before, end_reason: 'unregistered' }),
  ]);
});

it('a binding replaced (same Call-ID, other contact) in a later batch of refreshes goes to history whole', async () => {
  await store.applyBatch([event({ username: 'moved' })]);
  const before = await storedRow('moved');
  // The batch holds nothing but registrations: the old contact is ended by the new one.
  await store.applyBatch([
    event({ username: 'other', eventUs: T0 + 5 * S }),
    event({
      username: 'moved',
      contactUri: 'sip:moved@203.0.113.9:5070',
      contactIp: '203.0.113.9',
      contactPort: 5070,
      eventUs: T0 + 5 * S,
    }),
  ]);
  expect(await historyRows('moved')).toEqual([
    expect.objectContaining({ ...before, end_reason: 'replaced' }),
  ]);
});

it('a binding that expired unswept and registers again leaves its expired segment in history whole', async () => {
  await store.applyBatch([event({ username: 'lapsed', expires: 30 })]);
  const before = await storedRow('lapsed');
  await store.applyBatch([event({ username: 'lapsed', kind: 'refresh', eventUs: T0 + 90 * S })]);
  expect(await historyRows('lapsed')).toEqual([
    expect.objectContaining({ ...before, end_reason: 'expired', ended_at: before.expires_at }),
  ]);
  // …and the binding lives on as a new segment.
  const [now] = await pool
    .query(
      `SELECT ended_at, refresh_count, first_registered_at FROM registrations
      WHERE realm_key = $1 AND username_key = 'lapsed'`,
      [REALM],
    )
    .then((r) => r.rows);
  expect(now.ended_at).toBeNull();
  expect(now.refresh_count).toBe(0);
  expect(now.first_registered_at.getTime()).toBe((T0 + 90 * S) / 1000);
});
