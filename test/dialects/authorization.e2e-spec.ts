// The authorization matrix of the Kazoo API (no token, bad, expired, foreign, parent, child,
// super-admin) on the sipXcom, hosted-PBX and history paths, with each dialect's credentials:
// sipXcom Basic (API key as password) or X-Auth-Token, hosted-PBX Bearer, history X-Auth-Token.
import { kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { basic, bearer, DialectHarness, Reply, TestAccount, xAuth } from './dialect-harness';

let h: DialectHarness;
let parent: TestAccount;
let child: TestAccount;
let foreign: TestAccount;
let admin: TestAccount;
let expired: string;
let childExt: number;
let parentExt: number;

const SIPX = '/sipxconfig/api/registrations';
const PBX = '/api/ver1.0/extension';

beforeAll(async () => {
  h = await DialectHarness.start('auth');
  parent = await h.account('parent');
  child = await h.account('child', { parentId: parent.id });
  foreign = await h.account('foreign');
  admin = await h.account('admin', { isSuperadmin: true });
  expired = await h.expiredToken(child);
  const ts = nowS();
  await h.broker.publish([
    kazoo({ realm: child.realm, username: '700', callId: 'auth-700', ts }),
    kazoo({ realm: parent.realm, username: '800', callId: 'auth-800', ts }),
    kazoo({ realm: foreign.realm, username: '900', callId: 'auth-900', ts }),
  ]);
  await eventually(
    async () =>
      (await h.pool.query(`SELECT id FROM extensions WHERE realm_key LIKE '%.auth.h8.test'`))
        .rowCount,
    (n) => n === 3,
    { what: 'the three extensions' },
  );
  const ext = async (realm: string) =>
    (await h.pool.query(`SELECT id FROM extensions WHERE realm_key = $1`, [realm])).rows[0]
      .id as number;
  childExt = await ext(child.realm);
  parentExt = await ext(parent.realm);
});

afterAll(async () => {
  await h?.stop();
});

const callIds = (r: Reply) =>
  (r.json.registrations as { regCallId: string }[])
    .map((x) => x.regCallId)
    .filter((c) => c.startsWith('auth-'))
    .sort();

const expectUnauthorized = (r: Reply, challenge: string | RegExp) => {
  expect(r.status).toBe(401);
  expect(r.headers.get('www-authenticate')).toMatch(challenge);
  expect(r.json).toEqual({ error: 'unauthorized', message: expect.any(String) });
};

describe('sipXcom', () => {
  it.each([
    ['no credentials', {}],
    ['a bad API key', basic('0'.repeat(64))],
    [
      'Basic without a password',
      { authorization: `Basic ${Buffer.from('admin').toString('base64')}` },
    ],
    ['a bad token', xAuth('not-a-token')],
    ['an expired token', () => xAuth(expired)],
    ['a Bearer token (not this dialect)', () => bearer(child.token)],
  ])('refuses %s with 401', async (_what, headers) => {
    const r = await h.request('GET', SIPX, typeof headers === 'function' ? headers() : headers);
    // Digest SHA-256, Digest MD5 and Basic (test/dialects/sipxcom-users.e2e-spec.ts in detail).
    expectUnauthorized(
      r,
      /^Digest realm="sipxconfig", .*algorithm=SHA-256.*, Digest .*algorithm=MD5.*, Basic realm="sipxconfig"/,
    );
  });

  it('shows each caller its subtree: child, parent, foreign, super-admin', async () => {
    expect(callIds(await h.request('GET', SIPX, basic(child.apiKey)))).toEqual(['auth-700']);
    expect(callIds(await h.request('GET', SIPX, xAuth(child.token)))).toEqual(['auth-700']);
    expect(callIds(await h.request('GET', SIPX, basic(parent.apiKey)))).toEqual([
      'auth-700',
      'auth-800',
    ]);
    expect(callIds(await h.request('GET', SIPX, xAuth(foreign.token)))).toEqual(['auth-900']);
    expect(callIds(await h.request('GET', SIPX, basic(admin.apiKey)))).toEqual([
      'auth-700',
      'auth-800',
      'auth-900',
    ]);
  });

  it('hides other subtrees from the filters and from DELETE', async () => {
    const byUser = await h.request('GET', `${SIPX}/user/700`, basic(foreign.apiKey));
    expect([byUser.status, byUser.json.error]).toEqual([404, 'not_found']);
    const byParentUser = await h.request('GET', `${SIPX}/user/800`, basic(child.apiKey));
    expect(byParentUser.status).toBe(404);
    expect(callIds(await h.request('GET', `${SIPX}/user/700`, basic(parent.apiKey)))).toEqual([
      'auth-700',
    ]);
    const from = h.commands.length;
    const stop = await h.request('DELETE', `${SIPX}/callId/auth-700`, basic(foreign.apiKey));
    // sipXconfig's drop answers 200 without a body; nothing in scope was stopped.
    expect([stop.status, stop.text, stop.headers.get('x-registrations-stopped')]).toEqual([
      200,
      '',
      '0',
    ]);
    const stopUser = await h.request('DELETE', `${SIPX}/user/700`, xAuth(foreign.token));
    expect(stopUser.status).toBe(404);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.commandsFor(child.realm, from)).toEqual([]);
    expect(await h.liveIds(child.realm)).toHaveLength(1);
  });
});

describe('hosted PBX', () => {
  const one = (ext: () => number) => `${PBX}/${ext()}/registration/`;

  it.each([
    ['no token', {}],
    ['a bad token', bearer('not-a-token')],
    ['an expired token', () => bearer(expired)],
    ['an API key as Basic (not this dialect)', () => basic(child.apiKey)],
  ])('refuses %s with 401', async (_what, headers) => {
    const r = await h.request(
      'GET',
      one(() => childExt),
      typeof headers === 'function' ? headers() : headers,
    );
    expectUnauthorized(r, 'Bearer');
  });

  it.each([
    ['the child itself', () => child, () => childExt, 200],
    ['the parent', () => parent, () => childExt, 200],
    ['a super-admin', () => admin, () => childExt, 200],
    ['a foreign account', () => foreign, () => childExt, 403],
    ['the child, on its parent', () => child, () => parentExt, 403],
  ])('GET by %s', async (_who, account, ext, status) => {
    const r = await h.request('GET', one(ext), bearer(account().token));
    expect(r.status).toBe(status);
    if (status === 200) expect(r.json).toMatchObject({ registered: true, extension_id: ext() });
    else expect(r.json).toEqual({ error: 'forbidden', message: expect.any(String) });
  });

  it('lists for each caller its subtree only', async () => {
    // Every page of the caller's extensions (a super-admin's span other test files' accounts).
    const ids = async (who: TestAccount) => {
      const seen: number[] = [];
      for (let page = 1; ; page++) {
        const r = await h.request(
          'GET',
          `${PBX}/registration/?per_page=1000&page=${page}`,
          bearer(who.token),
        );
        const items = r.json as { extension_id: number }[];
        seen.push(...items.map((x) => x.extension_id));
        if (items.length < 1000) break;
      }
      return seen.filter((id) => [childExt, parentExt].includes(id)).sort((a, b) => a - b);
    };
    expect(await ids(child)).toEqual([childExt]);
    expect(await ids(parent)).toEqual([childExt, parentExt].sort((a, b) => a - b));
    expect(await ids(foreign)).toEqual([]);
    expect(await ids(admin)).toEqual([childExt, parentExt].sort((a, b) => a - b));
  });

  it('refuses DELETE by a foreign account or the child on its parent, and publishes nothing', async () => {
    const from = h.commands.length;
    for (const [who, ext] of [
      [foreign, childExt],
      [child, parentExt],
    ] as const) {
      const r = await h.request(
        'DELETE',
        one(() => ext),
        bearer(who.token),
      );
      expect(r.status).toBe(403);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect([...h.commandsFor(child.realm, from), ...h.commandsFor(parent.realm, from)]).toEqual([]);
    expect(await h.liveIds(child.realm)).toHaveLength(1);
    expect(await h.liveIds(parent.realm)).toHaveLength(1);
  });
});

describe('history', () => {
  const history = (account: TestAccount) => `/v2/accounts/${account.id}/registrations/history`;

  it.each([
    ['no token', () => ({}), () => child, 401],
    ['a bad token', () => xAuth('not-a-token'), () => child, 401],
    ['an expired token', () => xAuth(expired), () => child, 401],
    ['a foreign token', () => xAuth(foreign.token), () => child, 403],
    ['the child on its parent', () => xAuth(child.token), () => parent, 403],
    ['the child itself', () => xAuth(child.token), () => child, 200],
    ['the parent', () => xAuth(parent.token), () => child, 200],
    ['a super-admin', () => xAuth(admin.token), () => child, 200],
    ['a Bearer token', () => bearer(parent.token), () => child, 200],
  ])('answers %s with the Kazoo status', async (_what, headers, account, status) => {
    const r = await h.request('GET', history(account()), headers());
    expect(r.status).toBe(status);
    expect(r.json.status).toBe(status === 200 ? 'success' : 'error');
    if (status !== 200) expect(r.json.error).toBe(String(status));
  });

  it('answers a super-admin asking for an unknown account with 404', async () => {
    const r = await h.request(
      'GET',
      '/v2/accounts/ffffffffffffffffffffffffffffffff/registrations/history',
      xAuth(admin.token),
    );
    expect([r.status, r.json.message]).toEqual([404, 'bad_identifier']);
  });
});
