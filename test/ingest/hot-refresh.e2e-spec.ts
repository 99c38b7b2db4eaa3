// Refreshes are HOT updates (no index written), and the sweeper still ends exactly the bindings
// past their expiry: it finds them by a bound (sweep_at) that refreshes leave behind and that
// it moves up itself (migration 1796317000000).
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { createDataSource, RegistrationQueries, RegistrationStore } from '@app/persistence';
import type { RegistrationEvent } from '@app/registrations';
import { resetDatabase, testPool } from '../support/database';
import { eventually } from '../support/poll';
import { TEST_DATABASE_URL } from '../support/test-env';

let ds: DataSource;
let pool: Pool;
let store: RegistrationStore;
let queries: RegistrationQueries;
beforeAll(async () => {
  pool = testPool();
  await resetDatabase(pool);
  ds = createDataSource(TEST_DATABASE_URL, 2, 'registrations-test-hot-refresh');
  await ds.initialize();
  store = new RegistrationStore(ds);
  queries = new RegistrationQueries(ds);
});
afterAll(async () => {
  await ds?.destroy();
  await pool?.end();
});

const ACCOUNT = 'e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1e1';
const OTHER = 'e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2e2';
const S = 1_000_000;
const NOW = Math.floor(Date.now() / 1000) * S;

const ev = (realm: string, username: string, o: Partial<RegistrationEvent> = {}) =>
  ({
    kind: 'register',
    origin: 'kazoo',
    realm,
    username,
    originalContact: `<sip:${username}@192.0.2.50:5060>`,
    contactUri: `sip:${username}@192.0.2.50:5060`,
    callId: `call-${username}@${realm}`,
    expires: 600,
    eventUs: NOW,
    account: { id: ACCOUNT, name: 'Hot', realm },
    ...o,
  }) satisfies RegistrationEvent;

const row = async (realm: string, username: string) =>
  (
    await pool.query<{ sweep: Date; expires: Date; ended: Date | null }>(
      `SELECT sweep_at AS sweep, expires_at AS expires, ended_at AS ended FROM registrations
        WHERE realm_key = $1 AND username_key = $2`,
      [realm, username],
    )
  ).rows[0];

it('writes every refresh of a batch as a HOT update, and leaves the sweep bound where it was', async () => {
  const realm = 'hot-a.example.net';
  const users = Array.from({ length: 50 }, (_, i) => String(3000 + i));
  await store.applyBatch(users.map((u) => ev(realm, u)));
  const before = await row(realm, users[0]);
  expect(before.sweep.getTime()).toBe(before.expires.getTime());

  const hot = async () =>
    Number(
      (
        await pool.query(
          `SELECT n_tup_hot_upd AS n FROM pg_stat_user_tables WHERE relname = 'registrations'`,
        )
      ).rows[0].n,
    );
  const hot0 = await hot();
  // Written through a connection of its own: a backend reports its statistics when it exits.
  const writer = createDataSource(TEST_DATABASE_URL, 1, 'registrations-test-hot-refresh-writer');
  await writer.initialize();
  try {
    await new RegistrationStore(writer).applyBatch(
      users.map((u) => ev(realm, u, { kind: 'refresh', eventUs: NOW + 60 * S })),
    );
  } finally {
    await writer.destroy();
  }
  await eventually(hot, (n) => n - hot0 >= users.length, {
    what: `${users.length} HOT updates more than ${hot0}`,
    timeoutMs: 30_000,
  });
  const after = await row(realm, users[0]);
  expect(after.expires.getTime()).toBe(before.expires.getTime() + 60_000);
  expect(after.sweep.getTime()).toBe(before.sweep.getTime());
});

it('the sweeper moves a passed bound of a refreshed binding up, and ends only expired ones', async () => {
  const realm = 'hot-b.example.net';
  const account = { id: OTHER, name: 'Hot B', realm };
  await store.applyBatch([ev(realm, '4001', { account }), ev(realm, '4002', { account })]);
  // 4001: its first expiry passed, but it was refreshed (as if its bound were from then).
  await pool.query(
    `UPDATE registrations SET sweep_at = now() - interval '1 second' WHERE realm_key = $1 AND username_key = '4001'`,
    [realm],
  );
  // 4002: really expired (a writer lowering the expiry lowers the bound with it: the trigger).
  await pool.query(
    `UPDATE registrations SET expires_at = now() - interval '1 second' WHERE realm_key = $1 AND username_key = '4002'`,
    [realm],
  );
  expect((await row(realm, '4002')).sweep.getTime()).toBe(
    (await row(realm, '4002')).expires.getTime(),
  );
  // Counted through the bound before the sweep: 4002 is past its expiry.
  expect(await queries.countLive(OTHER)).toBe(1);

  const ended = await store.expireDue();
  expect(ended?.map((b) => b.username)).toEqual(['4002']);
  const refreshed = await row(realm, '4001');
  expect(refreshed.ended).toBeNull();
  expect(refreshed.sweep.getTime()).toBe(refreshed.expires.getTime());
  expect(await queries.countLive(OTHER)).toBe(1);
});

it('a row inserted by hand without a bound is due at once: the sweeper sets its bound', async () => {
  const realm = 'hot-c.example.net';
  await pool.query(
    `INSERT INTO registrations (realm_key, username_key, contact_uri, account_id, origin, realm, username,
       original_contact, expires, event_us, first_registered_at, last_registered_at, expires_at)
     VALUES ($1, '5001', 'sip:5001@192.0.2.51', $2, 'kazoo', $1, '5001', '<sip:5001@192.0.2.51>', 600,
             0, now(), now(), now() + interval '10 minutes')`,
    [realm, ACCOUNT],
  );
  const unset = await pool.query(
    `SELECT sweep_at = '-infinity' AS unset FROM registrations WHERE realm_key = $1`,
    [realm],
  );
  expect(unset.rows[0].unset).toBe(true);
  expect(await store.expireDue()).toEqual([]);
  const r = await row(realm, '5001');
  expect(r.ended).toBeNull();
  expect(r.sweep.getTime()).toBe(r.expires.getTime());
});

it('counts every account and the unassigned bindings, without the unswept expired ones', async () => {
  const realm = 'hot-d.example.net';
  await store.applyBatch([
    ev(realm, '6001', { account: undefined }),
    ev(realm, '6002', { account: undefined }),
  ]);
  const truth = Number(
    (
      await pool.query(
        `SELECT count(*) AS n FROM registrations WHERE ended_at IS NULL AND expires_at > now()`,
      )
    ).rows[0].n,
  );
  expect(await queries.countLive()).toBe(truth);
  await pool.query(
    `UPDATE registrations SET expires_at = now() - interval '1 second' WHERE username_key IN ('3000', '6001')`,
  );
  expect(await queries.countLive()).toBe(truth - 2);
});
