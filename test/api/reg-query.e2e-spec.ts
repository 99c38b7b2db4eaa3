// reg_query on the bus, asked by a client speaking kapi_registration's format
// (scripts/support/kapi-registration-client.ts) and answered by the API app from Postgres.
// Expected answers written from 2600hz/kazoo 4.3:
// - applications/ecallmgr/src/ecallmgr_registrar.erl resp_to_query/2 (reg_query_resp with
//   Msg-ID, Registrar-Age, Fields; Count with Fields [] for Count-Only; reg_query_error when
//   nothing matched), build_query_spec/2 (realm "all"; Realm + Username; lower-cased realm),
//   filter/2 (only the asked Fields), to_props/1 (the keys of a binding);
// - core/kazoo_amqp/src/api/kapi_registration.erl query_req_v/1 (Fields must be reg_success keys
//   or Bridge-RURI; ecallmgr does not answer a query that fails it), publish_query_resp/2
//   (targeted to the asker's Server-ID).
import { KapiRegistrationClient } from '../../scripts/support/kapi-registration-client';
import { RegQueryResponder } from '../../apps/api/src/reg-query/reg-query.responder';
import { accountIdFor, ApiHarness, GREGORIAN_OFFSET_S, startApi } from '../support/api-harness';
import { kazooBinding, waitForLive } from '../support/api-fixtures';
import { Harness, startIngest } from '../support/ingest-harness';
import { nowS } from '../support/messages';
import { TEST_AMQP_URL } from '../support/test-env';

const ACC = { id: accountIdFor('reg-query'), name: 'Reg Query', realm: 'rq.kapi.test' };
const OTHER = { id: accountIdFor('reg-query-other'), name: 'Other', realm: 'other.kapi.test' };

let h: Harness;
let api: ApiHarness;
let client: KapiRegistrationClient;
let ts: number;

beforeAll(async () => {
  h = await startIngest();
  api = await startApi({ KAZOO_REG_QUERY: 'true' });
  await api.app.get(RegQueryResponder).ready();
  client = await KapiRegistrationClient.open(TEST_AMQP_URL);
  await api.accounts.createOrAdopt(ACC);
  await api.accounts.createOrAdopt(OTHER);
  ts = nowS() - 5;
  const b = (username: string, n: number, realm = ACC.realm, accountId = ACC.id) =>
    kazooBinding({
      realm,
      username,
      accountId,
      ts,
      contact: `<sip:${username}@192.0.2.${n}:5070;transport=udp>`,
      callId: `${username}-${n}@phone`,
    });
  await h.broker.publish([
    b('alice', 1),
    b('alice', 2),
    b('bob', 3),
    b('carol', 4, OTHER.realm, OTHER.id),
  ]);
  await waitForLive(h.pool, ACC.id, 3);
  await waitForLive(h.pool, OTHER.id, 1);
});

afterAll(async () => {
  await client?.close();
  await api?.close();
  await h?.stop();
});

function expectHeaders(a: Record<string, unknown>, eventName: string) {
  expect(a['Event-Category']).toBe('directory');
  expect(a['Event-Name']).toBe(eventName);
  expect(Number.isInteger(a['Registrar-Age'])).toBe(true);
  expect(a['App-Name']).toEqual(expect.any(String));
  expect(a.Node).toEqual(expect.any(String));
}

it('Realm + Username: every live contact of that user, keyed as ecallmgr_registrar:to_props/1', async () => {
  const a = await client.query({ Realm: ACC.realm, Username: 'alice' });
  expectHeaders(a, 'reg_query_resp');
  expect(a.Fields.map((f: { Contact: string }) => f.Contact).sort()).toEqual([
    'sip:alice@192.0.2.1:5070;transport=udp',
    'sip:alice@192.0.2.2:5070;transport=udp',
  ]);
  const f = a.Fields.find((x: { 'Call-ID': string }) => x['Call-ID'] === 'alice-1@phone');
  expect(f).toMatchObject({
    Username: 'alice',
    Realm: ACC.realm,
    'Original-Contact': '<sip:alice@192.0.2.1:5070;transport=udp>',
    Expires: expect.any(Number),
    'Account-ID': ACC.id,
    // kz_util:format_account_db/1, encoded
    'Account-DB': `account%2F${ACC.id.slice(0, 2)}%2F${ACC.id.slice(2, 4)}%2F${ACC.id.slice(4)}`,
    'Account-Name': ACC.name,
    'Account-Realm': ACC.realm,
    'From-User': 'alice',
    'To-Host': ACC.realm,
    // to_props/1: Event-Timestamp is the last registration, in Gregorian seconds
    'Event-Timestamp': ts + GREGORIAN_OFFSET_S,
    'Last-Registration': ts + GREGORIAN_OFFSET_S,
    'Initial-Registration': ts + GREGORIAN_OFFSET_S,
  });
  // Proxy-Port is read with kz_json:get_integer_value in ecallmgr_registrar
  if ('Proxy-Port' in f) expect(typeof f['Proxy-Port']).toBe('number');
  for (const k of Object.keys(f)) expect(f[k]).not.toBeNull();
});

it('answers the asker only, with its Msg-ID, and matches realm and username without case', async () => {
  const a = await client.query({ Realm: ACC.realm.toUpperCase(), Username: 'BOB' });
  expectHeaders(a, 'reg_query_resp');
  expect(a.Fields.map((f: { Username: string }) => f.Username)).toEqual(['bob']);
});

it('Fields: only the asked keys (filter/2)', async () => {
  const a = await client.query({
    Realm: ACC.realm,
    Username: 'bob',
    Fields: ['Contact', 'Expires', 'Bridge-RURI'],
  });
  expect(a.Fields).toEqual([
    { Contact: 'sip:bob@192.0.2.3:5070;transport=udp', Expires: expect.any(Number) },
  ]);
});

it('Realm alone: every user of the realm; realm "all": everyone', async () => {
  const realm = await client.query({ Realm: ACC.realm });
  expect(realm.Fields.map((f: { Username: string }) => f.Username).sort()).toEqual([
    'alice',
    'alice',
    'bob',
  ]);
  const all = await client.query({ Realm: 'all', Fields: ['Username', 'Realm'] });
  expect(all.Fields).toHaveLength(4);
  expect(all.Fields).toContainEqual({ Username: 'carol', Realm: OTHER.realm });
});

it('Count-Only: Count and Fields [] (resp_to_query/2 with ets:select_count)', async () => {
  const a = await client.query({ Realm: ACC.realm, 'Count-Only': true });
  expectHeaders(a, 'reg_query_resp');
  expect([a.Count, a.Fields]).toEqual([3, []]);
  const user = await client.query({ Realm: ACC.realm, Username: 'alice', 'Count-Only': true });
  expect(user.Count).toBe(2);
  const none = await client.query({ Realm: ACC.realm, Username: 'nobody', 'Count-Only': true });
  expect([none['Event-Name'], none.Count]).toEqual(['reg_query_resp', 0]);
});

it('nothing registered: reg_query_error with the Msg-ID and Registrar-Age', async () => {
  const a = await client.query({ Realm: ACC.realm, Username: 'nobody' });
  expectHeaders(a, 'reg_query_error');
  expect(a).not.toHaveProperty('Fields');
  const b = await client.query({ Realm: 'no-such-realm.kapi.test' });
  expect(b['Event-Name']).toBe('reg_query_error');
});

it('a query query_req_v/1 refuses gets no answer, and the next one is still answered', async () => {
  const refused = client.query(
    { Realm: ACC.realm, Username: 'bob', Fields: ['Not-A-Field'] },
    1500,
  );
  await expect(refused).rejects.toThrow(/no answer/);
  const a = await client.query({ Realm: ACC.realm, Username: 'bob' });
  expect(a['Event-Name']).toBe('reg_query_resp');
  expect(client.unexpected).toEqual([]);
});
