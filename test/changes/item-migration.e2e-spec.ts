// Migration 1796720000000 (the outbox's item as json in `item`) on a database that holds
// changes: up touches only the catalogue (the table is not rewritten, its rows stay as they
// were and read the same), down puts every item back into the jsonb `registration`, and up
// again works on what down left. On a database of its own: the migrations go back and forth.
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createDataSource, initializeDataSource, ITEM_JSON, ITEM_TEXT } from '@app/persistence';
import { TEST_DATABASE_URL } from '../support/test-env';

const URL = `${TEST_DATABASE_URL}_item_migration`;
const NAME = 'ChangeItemJson1796720000000';
let ds: DataSource;

async function dropDatabase(): Promise<void> {
  const admin = new Client({ connectionString: URL.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  try {
    await admin.query(
      `DROP DATABASE IF EXISTS "${URL.slice(URL.lastIndexOf('/') + 1)}" WITH (FORCE)`,
    );
  } finally {
    await admin.end();
  }
}

beforeAll(async () => {
  await dropDatabase();
  ds = createDataSource(URL, 2, 'registrations-test-item-migration');
  await initializeDataSource(ds, URL, () => undefined);
});
afterAll(async () => {
  await ds?.destroy();
  await dropDatabase();
});

/** Undoes the migrations back to, and including, 1796720000000 (later ones first). */
async function downThroughItemJson(): Promise<void> {
  for (;;) {
    const [{ name }] = await ds.query(`SELECT name FROM migrations ORDER BY id DESC LIMIT 1`);
    await ds.undoLastMigration({ transaction: 'each' });
    if (name === NAME) return;
  }
}

const item = (username: string) => ({
  realm: 'mig.example.net',
  username,
  contact: `<sip:${username}@10.0.0.1:5060>`,
  expires: 600,
  user_agent: 'Yealink "T46" \\ ü',
});

async function insertOld(username: string): Promise<void> {
  await ds.query(
    `INSERT INTO registration_changes (change, occurred_at, realm, username, registration, account_name)
     VALUES ('registered', now(), 'mig.example.net', $1, $2::jsonb, 'Mig')`,
    [username, JSON.stringify(item(username))],
  );
}

async function insertNew(username: string): Promise<void> {
  await ds.query(
    `INSERT INTO registration_changes (change, occurred_at, realm, username, item, account_name)
     VALUES ('registered', now(), 'mig.example.net', $1, $2::json, 'Mig')`,
    [username, JSON.stringify(item(username))],
  );
}

/** Every stored item as the SSE stream reads it, by username. */
async function items(expr: string): Promise<Record<string, unknown>> {
  const rows: { username: string; it: unknown }[] = await ds.query(
    `SELECT username, ${expr} AS it FROM registration_changes ORDER BY seq`,
  );
  return Object.fromEntries(rows.map((r) => [r.username, r.it]));
}

const relfilenode = async () =>
  Number(
    (await ds.query(`SELECT relfilenode FROM pg_class WHERE relname = 'registration_changes'`))[0]
      .relfilenode,
  );

it('up keeps the rows as they are and the table unrewritten, down moves items back to jsonb, up again', async () => {
  await downThroughItemJson();
  await insertOld('before-1');
  await insertOld('before-2');
  const before: { username: string; text: string }[] = await ds.query(
    `SELECT username, registration::text AS text FROM registration_changes ORDER BY seq`,
  );
  const file = await relfilenode();

  await ds.runMigrations({ transaction: 'each' });
  expect(await relfilenode()).toBe(file);
  // The relay's text of an older row is what it sent before the migration.
  const relayed: { username: string; text: string }[] = await ds.query(
    `SELECT username, ${ITEM_TEXT} AS text FROM registration_changes ORDER BY seq`,
  );
  expect(relayed).toEqual(before);
  await insertNew('after-1');
  // A row with neither is refused: every change keeps its item.
  await expect(
    ds.query(
      `INSERT INTO registration_changes (change, occurred_at, realm, username)
       VALUES ('registered', now(), 'mig.example.net', 'none')`,
    ),
  ).rejects.toThrow(/registration_changes_item_or_registration/);
  const expected = {
    'before-1': item('before-1'),
    'before-2': item('before-2'),
    'after-1': item('after-1'),
  };
  expect(await items(ITEM_JSON)).toEqual(expected);

  await downThroughItemJson();
  expect(await items('registration')).toEqual(expected);
  const [{ notnull }] = await ds.query(
    `SELECT attnotnull AS notnull FROM pg_attribute
      WHERE attrelid = 'registration_changes'::regclass AND attname = 'registration'`,
  );
  expect(notnull).toBe(true);

  await ds.runMigrations({ transaction: 'each' });
  await insertNew('after-2');
  expect(await items(ITEM_JSON)).toEqual({ ...expected, 'after-2': item('after-2') });
  const [{ pending }] = await ds.query(
    `SELECT count(*)::int AS pending FROM registration_changes WHERE item IS NULL`,
  );
  expect(pending).toBe(3); // what down moved back stays in `registration` until retention
});
