// The Kazoo list's items are built by Postgres (kazoo-item.sql.ts), the change feed's and the
// CSV's by toKazooItem: both render KAZOO_ITEM_FIELDS, and a client must never see them differ.
// For bindings of every shape (unknown fields, quotes, backslashes, control characters,
// non-ASCII, IPv6, booleans, an account with and without a name), the JSON text Postgres builds
// is byte for byte JSON.stringify(toKazooItem(…)) of the same stored row.
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import type { Pool } from 'pg';
import { createDataSource, RegistrationQueries, RegistrationStore } from '@app/persistence';
import { RegistrationEvent, toKazooItem, Binding } from '@app/registrations';
import { resetDatabase, testPool } from '../support/database';
import { TEST_DATABASE_URL } from '../support/test-env';

let ds: DataSource;
let pool: Pool;
let store: RegistrationStore;
let queries: RegistrationQueries;
beforeAll(async () => {
  pool = testPool();
  await resetDatabase(pool);
  ds = createDataSource(TEST_DATABASE_URL, 2, 'registrations-test-item-sql');
  await ds.initialize();
  store = new RegistrationStore(ds);
  queries = new RegistrationQueries(ds);
});
afterAll(async () => {
  await ds.destroy();
  await pool.end();
});

const ACCOUNT = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
const NAMELESS = 'b1b2c3d4e5f60718293a4b5c6d7e8f90';
const T = (Math.floor(Date.now() / 1000) - 30) * 1_000_000 + 123_456; // not a whole second

function event(username: string, o: Partial<RegistrationEvent> = {}): RegistrationEvent {
  const contactUri = o.contactUri ?? `sip:${username}@192.0.2.30:5060`;
  return {
    kind: 'register',
    origin: 'kazoo',
    realm: 'items.example.net',
    username,
    originalContact: `<${contactUri}>`,
    contactUri,
    expires: 3600,
    eventUs: T,
    account: { id: ACCOUNT, name: 'Ünïcode "Acme" \\ Ltd', realm: 'items.example.net' },
    ...o,
  };
}

it('Postgres builds exactly the item toKazooItem builds, for bindings of every shape', async () => {
  await store.applyBatch([
    event('bare'), // only what every binding has
    event('full', {
      originalContact: '<sip:full@[2001:db8::7]:5062;transport=tls>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-805ec0aabbcc>"',
      contactUri: 'sip:full@[2001:db8::7]:5062;transport=tls',
      contactIp: '2001:db8::7',
      contactPort: 5062,
      callId: 'c"all\\id\u0001\t\n@host',
      userAgent: 'Grandstream GXP2170 1.0.11.23 «ß» 電話',
      sourceIp: '198.51.100.9',
      sourcePort: 61234,
      networkIp: '10.9.9.9',
      networkPort: 5080,
      proxyPath: '<sip:10.0.0.1;lr>',
      proxyIp: '10.0.0.1',
      proxyPort: 5060,
      proxyProtocol: 'tls',
      registrarNode: 'kamailio@proxy1.example.net',
      fromUser: 'full',
      fromHost: 'items.example.net',
      toUser: 'full',
      toHost: 'items.example.net',
      authorizingId: 'deadbeefdeadbeefdeadbeefdeadbeef',
      authorizingType: 'device',
      ownerId: 'feedfacefeedfacefeedfacefeedface',
      suppressUnregisterNotify: true,
      sipInstance: 'urn:uuid:00000000-0000-1000-8000-805ec0aabbcc',
      mac: '805ec0aabbcc',
    }),
    event('false-flag', { suppressUnregisterNotify: false, contactPort: 0 }),
    event('nameless', { account: { id: NAMELESS } }),
  ]);
  await store.applyBatch([event('full', { kind: 'refresh', eventUs: T + 65_000_001 })]);

  for (const accountId of [ACCOUNT, NAMELESS]) {
    const rows = await queries.listLive({ accountId });
    const items = await queries.listLiveItems({ accountId });
    expect(items.map((i) => i.id)).toEqual(rows.map((r) => r.id));
    expect(rows.length).toBeGreaterThan(0);
    rows.forEach((r, i) => {
      const expected = JSON.stringify(
        toKazooItem(r as unknown as Binding, { name: r.accountName, realm: r.accountRealm }),
      );
      expect(items[i].item).toBe(expected);
    });
  }
});
