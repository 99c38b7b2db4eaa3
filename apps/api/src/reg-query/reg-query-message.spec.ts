// reg_query parsing and rendering, from 2600hz/kazoo 4.3: kapi_registration.erl
// query_req_definition (optional Username, Realm, Fields, Count-Only; Fields must be reg_success
// keys or Bridge-RURI), ecallmgr_registrar.erl filter/2, kz_util:format_account_db/1.
import { accountDb, filterFields, regQuerySchema } from './reg-query-message';

const base = {
  'Event-Category': 'directory',
  'Event-Name': 'reg_query',
  'Server-ID': 'crossbar-queue',
  'Msg-ID': 'm1',
  Realm: 'acme.example.net',
};

it('takes Realm, Username, Fields and Count-Only as kapi_registration defines them', () => {
  const q = regQuerySchema.parse({
    ...base,
    Username: 'alice',
    Fields: ['Contact', 'Bridge-RURI'],
    'Count-Only': 'true',
  });
  expect(q).toMatchObject({ Username: 'alice', Fields: ['Contact', 'Bridge-RURI'] });
  expect(q['Count-Only']).toBe(true);
  expect(regQuerySchema.parse(base)['Count-Only']).toBe(false);
});

it('refuses what query_req_v/1 refuses, and a query nobody could be answered', () => {
  for (const bad of [
    { ...base, Fields: ['Password'] },
    { ...base, Fields: 'Contact' },
    { ...base, 'Event-Name': 'reg_success' },
    { ...base, 'Event-Category': 'call' },
    { ...base, 'Server-ID': undefined },
    { ...base, Realm: undefined },
  ])
    expect(regQuerySchema.safeParse(bad).success).toBe(false);
});

it('filter/2: only the asked fields, all of them when none are asked', () => {
  const props = { Contact: 'sip:a@b', Expires: 300, Username: 'a' };
  expect(filterFields(props, ['Expires', 'Call-ID'])).toEqual({ Expires: 300 });
  expect(filterFields(props, [])).toBe(props);
  expect(filterFields(props, undefined)).toBe(props);
});

it("names the account database as Kazoo's encoded form", () => {
  expect(accountDb('0123456789abcdef0123456789abcdef')).toBe(
    'account%2F01%2F23%2F456789abcdef0123456789abcdef',
  );
});
