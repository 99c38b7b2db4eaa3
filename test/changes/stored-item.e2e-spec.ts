// A change's stored item comes out the same whichever way the outbox holds it: in the json
// `item` (written since migration 1796720000000) or in the jsonb `registration`, as a database
// migrated before holds its older rows (with the account's keys in columns, or, older still,
// inside the item). Same event on the exchange, same event in the SSE stream.
import * as amqp from 'amqplib';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AccountStore, CredentialStore, OUTBOX_LOCK } from '@app/persistence';
import { connectTestBroker } from '../support/amqp';
import { startApiApp } from '../support/apps';
import { ChangeMsg, subscribe } from '../support/change-feed';
import { eventually } from '../support/poll';
import { startIngest, Harness } from '../support/ingest-harness';
import { accountIdOf, kazoo, nowS } from '../support/messages';
import { SseClient } from '../support/sse-client';
import { testConfig } from '../support/test-env';

let h: Harness;
let conn: amqp.ChannelModel;
let api: { app: NestFastifyApplication; url: string };
beforeAll(async () => {
  h = await startIngest();
  conn = await connectTestBroker();
  api = await startApiApp(testConfig());
});
afterAll(async () => {
  await api.app.close();
  await conn.close();
  await h.stop();
});

/**
 * Copies of the stored change `seq` as a database migrated before 1796720000000 holds them
 * (the item as jsonb in `registration`, no `item`): one with the account's keys in their
 * columns, one from before 1796700000000 with them inside the item. Inserted as the product's
 * writers do, under the outbox lock (seq order is commit order).
 */
async function copyTheOldWays(seq: number): Promise<void> {
  const c = await h.pool.connect();
  try {
    await c.query('BEGIN');
    await c.query('SELECT pg_advisory_xact_lock($1)', [OUTBOX_LOCK]);
    await c.query(
      `INSERT INTO registration_changes (change, occurred_at, account_id, realm, username,
                                         registration_id, registration, account_name, account_realm)
       SELECT change, occurred_at, account_id, realm, username, registration_id,
              item::jsonb, account_name, account_realm
         FROM registration_changes WHERE seq = $1`,
      [seq],
    );
    await c.query(
      `INSERT INTO registration_changes (change, occurred_at, account_id, realm, username,
                                         registration_id, registration)
       SELECT change, occurred_at, account_id, realm, username, registration_id,
              item::jsonb || jsonb_strip_nulls(jsonb_build_object('account_name', account_name,
                                                                  'account_realm', account_realm))
         FROM registration_changes WHERE seq = $1`,
      [seq],
    );
    await c.query('COMMIT');
  } finally {
    c.release();
  }
}

it('a change stored as json now and the same change stored as jsonb before give the same event, on the exchange and in the SSE stream', async () => {
  const realm = 'stored-item.example.net';
  const account = accountIdOf(realm);
  // A name that JSON must escape, and a realm: both keys in the event.
  await api.app
    .get(AccountStore)
    .createOrAdopt({ id: account, name: 'Stored "Item" \\ Café', realm });
  const key = await api.app.get(CredentialStore).createApiKey(account);
  const auth = await fetch(`${api.url}/v2/api_auth`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ data: { api_key: key } }),
  });
  const token = ((await auth.json()) as { auth_token: string }).auth_token;

  const got = await subscribe(conn, `*.${account}.#`);
  await h.broker.publish([
    kazoo({ realm, username: '1001', contact: '<sip:1001@10.1.2.3:5060>', ts: nowS() }),
  ]);
  await eventually(
    async () => got.length,
    (n) => n >= 1,
    { timeoutMs: 20_000, what: 'the change written by the product' },
  );
  const now = got[0];
  expect(now.msg.registration).toMatchObject({
    username: '1001',
    realm,
    contact_ip: '10.1.2.3',
    account_name: 'Stored "Item" \\ Café',
    account_realm: realm,
  });
  await copyTheOldWays(now.msg.seq);
  await eventually(
    async () => got.length,
    (n) => n >= 3,
    { timeoutMs: 20_000, what: 'the two changes stored the old ways' },
  );
  expect(got).toHaveLength(3);
  const withoutSeq = ({ msg: { seq: _seq, ...rest }, key }: { key: string; msg: ChangeMsg }) => ({
    key,
    rest,
  });
  expect(got[1].msg.seq).toBeGreaterThan(now.msg.seq);
  expect(got[2].msg.seq).toBeGreaterThan(got[1].msg.seq);
  for (const old of got.slice(1)) expect(withoutSeq(old)).toStrictEqual(withoutSeq(now));

  // The SSE stream resumed from before the three (ChangeQueries.after): the same events the
  // exchange carried, each under its seq.
  const sse = new SseClient(
    `${api.url}/v2/accounts/${account}/registrations/changes?since=${now.msg.seq - 1}`,
    { 'x-auth-token': token },
  );
  await sse.open();
  expect(sse.status).toBe(200);
  await eventually(
    async () => sse.events.length,
    (n) => n >= 3,
    { what: 'the three changes in the SSE stream' },
  );
  await sse.close();
  expect(sse.events.map((e) => [e.id, e.event])).toEqual(
    got.map((g) => [String(g.msg.seq), 'registered']),
  );
  expect(sse.events.map((e) => JSON.parse(e.data) as ChangeMsg)).toStrictEqual(
    got.map((g) => g.msg),
  );
});
