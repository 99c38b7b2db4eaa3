// The Kazoo list keeps each binding's rendered item by row version. What a client lists must
// still always be the binding as stored now: a refresh, a changed user agent, a renamed
// account, an unregister or an expiry between two identical requests shows in the second one.
import { accountIdFor, accountWithToken, ApiHarness, http, startApi } from '../support/api-harness';
import { kazooBinding, waitForLive } from '../support/api-fixtures';
import { startIngest, Harness } from '../support/ingest-harness';
import { nowS } from '../support/messages';
import { eventually } from '../support/poll';

let h: Harness;
let api: ApiHarness;
const ACME = {
  id: accountIdFor('fresh-acme'),
  name: 'Fresh Acme',
  realm: 'acme.fresh.api-e2e.test',
};
let token: string;
const t0 = nowS() - 20;

beforeAll(async () => {
  h = await startIngest();
  api = await startApi();
  token = (await accountWithToken(api, ACME)).token;
  await h.broker.publish(
    ['1001', '1002', '1003'].map((username) =>
      kazooBinding({
        realm: ACME.realm,
        username,
        accountId: ACME.id,
        ts: t0,
        userAgent: 'Phone/1.0',
      }),
    ),
  );
  await waitForLive(h.pool, ACME.id, 3);
});
afterAll(async () => {
  await api?.close();
  await h?.stop();
});

const list = async () => {
  const res = await http(api.url, 'GET', `/v2/accounts/${ACME.id}/registrations?page_size=10`, {
    token,
  });
  expect(res.status).toBe(200);
  return res.json as { data: Record<string, unknown>[]; revision: string };
};
const byUser = (body: { data: Record<string, unknown>[] }) =>
  Object.fromEntries(body.data.map((i) => [i.username, i]));

it('the same request twice answers the same items', async () => {
  const a = await list();
  const b = await list();
  expect(b.data).toEqual(a.data);
  expect(b.revision).toBe(a.revision);
  expect(a.data.map((i) => i.username)).toEqual(['1001', '1002', '1003']);
});

it('a refresh with another user agent shows at once in the next list', async () => {
  await list(); // every item is now kept
  await h.broker.publish([
    kazooBinding({
      realm: ACME.realm,
      username: '1002',
      accountId: ACME.id,
      ts: t0 + 5,
      first: false,
      userAgent: 'Phone/2.0',
    }),
  ]);
  const after = await eventually(list, (b) => byUser(b)['1002'].user_agent === 'Phone/2.0', {
    what: 'the refreshed user agent',
  });
  expect(byUser(after)['1002'].event_timestamp).toBe(
    (byUser(after)['1001'].event_timestamp as number) + 5,
  );
  expect(byUser(after)['1001'].user_agent).toBe('Phone/1.0');
});

it('a renamed account shows in every item, an unregistered binding is gone, an expired one too', async () => {
  await list();
  await api.accounts.createOrAdopt({ ...ACME, name: 'Acme Renamed' });
  expect((await list()).data.every((i) => i.account_name === 'Acme Renamed')).toBe(true);

  await h.broker.publish([
    kazooBinding({
      realm: ACME.realm,
      username: '1003',
      accountId: ACME.id,
      ts: t0 + 6,
      expires: 0,
    }),
  ]);
  await eventually(list, (b) => !('1003' in byUser(b)), { what: '1003 unregistered' });

  // Expiry, before any sweep (the row is not written): the list must not show it either.
  await h.pool.query(
    `UPDATE registrations SET expires_at = now() WHERE account_id = $1 AND username_key = '1001'`,
    [ACME.id],
  );
  expect(Object.keys(byUser(await list()))).toEqual(['1002']);
});
