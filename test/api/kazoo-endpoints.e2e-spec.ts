// Kazoo's /v2 registrations API over real HTTP, real Postgres and real RabbitMQ: every endpoint,
// the envelope of every answer, list items key by key (seed 000 + api-dialects.md A), counts,
// 405s and PUT /v2/api_auth. Bindings arrive the way production gets them: Kamailio reg_success
// messages through RabbitMQ into the ingest app.
import {
  accountIdFor,
  accountWithToken,
  ApiHarness,
  expectEnvelope,
  expectKazooError,
  expectValidationError,
  GREGORIAN_OFFSET_S,
  http,
  startApi,
} from '../support/api-harness';
import { kazooBinding, liveCount, waitForLive } from '../support/api-fixtures';
import { startIngest, Harness } from '../support/ingest-harness';
import { nowS } from '../support/messages';
import { eventually } from '../support/poll';

let h: Harness;
let api: ApiHarness;

const ROOT = { id: accountIdFor('ep-root'), name: 'Ops Root', realm: 'root.ep.api-e2e.test' };
const ACME = {
  id: accountIdFor('ep-acme'),
  name: 'Acme Corp',
  realm: 'acme.ep.api-e2e.test',
  parentId: ROOT.id,
};
const OTHER = {
  id: accountIdFor('ep-other'),
  name: 'Other Inc',
  realm: 'other.ep.api-e2e.test',
  parentId: ROOT.id,
};
let rootToken: string;
let acmeToken: string;
let acmeKey: string;
let otherToken: string;

const t0 = nowS() - 30;
const G = GREGORIAN_OFFSET_S;

// The seed's keys plus Kazoo registrar's own extras (api-dialects.md A).
const SEED_KEYS = [
  'account_name',
  'account_realm',
  'authorizing_id',
  'authorizing_type',
  'call_id',
  'contact',
  'contact_ip',
  'contact_port',
  'event_timestamp',
  'expires',
  'from_host',
  'from_user',
  'network_ip',
  'network_port',
  'original_contact',
  'owner_id',
  'proxy_ip',
  'proxy_port',
  'realm',
  'suppress_unregister_notify',
  'to_host',
  'to_user',
  'user_agent',
  'username',
];
const EXTRA_KEYS = [
  'proxy_path',
  'proxy_protocol',
  'registrar_node',
  'source_ip',
  'source_port',
  'initial_registration',
  'last_registration',
];
const ALL_KEYS = [...SEED_KEYS, ...EXTRA_KEYS].sort();

const ALICE_CONTACT =
  '<sip:alice@192.0.2.10:5080;transport=udp>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-001565a1b2c3>"';

/** alice: every field known (registered at t0, refreshed at t0+7). */
const aliceFields = {
  realm: ACME.realm,
  username: 'alice',
  accountId: ACME.id,
  contact: ALICE_CONTACT,
  callId: 'alice-call-1@192.0.2.10',
  expires: 600,
  userAgent: 'Yealink SIP-T46S 66.86.0.15',
  set: {
    'Network-IP': '198.51.100.7',
    'Network-Port': '34567',
    'Proxy-Path': 'sip:10.20.0.5:5060;transport=udp',
    'Proxy-IP': '10.20.0.5',
    'Proxy-Port': '5060',
    'Proxy-Protocol': 'udp',
    'Source-IP': '203.0.113.50',
    'Source-Port': '40123',
    Node: 'kamailio@px1.example.net',
  },
  ccv: {
    'Authorizing-ID': '0f0e0d0c0b0a09080706050403020100',
    'Authorizing-Type': 'device',
    'Owner-ID': 'aa00bb11cc22dd33ee44ff5566778899',
    'Suppress-Unregister-Notifications': true,
  },
};

/** bob: only what a plain Kamailio without Kazoo authentication sends. */
const BOB_UNSET = [
  'User-Agent',
  'Proxy-Path',
  'Proxy-IP',
  'Proxy-Port',
  'Proxy-Protocol',
  'Proxy-URI',
  'Source-IP',
  'Source-Port',
  'Node',
  'Server-ID',
];

beforeAll(async () => {
  h = await startIngest();
  api = await startApi();
  rootToken = (await accountWithToken(api, { ...ROOT, isSuperadmin: true })).token;
  const acme = await accountWithToken(api, ACME);
  acmeToken = acme.token;
  acmeKey = acme.apiKey;
  otherToken = (await accountWithToken(api, OTHER)).token;

  await h.broker.publish([
    // zed's registration ran out long ago (30 s granted, 100 s ago): never listed nor counted.
    kazooBinding({
      realm: ACME.realm,
      username: 'zed',
      accountId: ACME.id,
      ts: nowS() - 100,
      expires: 30,
    }),
    kazooBinding({ ...aliceFields, ts: t0, first: true }),
    kazooBinding({
      realm: ACME.realm,
      username: 'bob',
      accountId: ACME.id,
      contact: '<sip:bob@192.0.2.20:5062>',
      callId: 'bob-call',
      ts: t0 + 1,
      unset: BOB_UNSET,
      ccv: { 'Authorizing-ID': undefined, 'Authorizing-Type': undefined },
    }),
    // Ports from the contact: absent → 5061 for TLS or sips, else 5060.
    kazooBinding({
      realm: ACME.realm,
      username: 'carol',
      accountId: ACME.id,
      contact: '<sip:carol@192.0.2.30;transport=tls>',
      ts: t0 + 2,
    }),
    kazooBinding({
      realm: ACME.realm,
      username: 'dave',
      accountId: ACME.id,
      contact: 'sips:dave@192.0.2.40',
      ts: t0 + 3,
    }),
    kazooBinding({
      realm: ACME.realm,
      username: 'erin',
      accountId: ACME.id,
      contact: '"Erin" <sip:erin@192.0.2.50>;expires=600',
      ts: t0 + 4,
    }),
    // Another account's phones, and one of the root's.
    kazooBinding({ realm: OTHER.realm, username: 'oscar', accountId: OTHER.id, ts: t0 }),
    kazooBinding({ realm: OTHER.realm, username: 'olga', accountId: OTHER.id, ts: t0 }),
    kazooBinding({ realm: ROOT.realm, username: 'ruth', accountId: ROOT.id, ts: t0 }),
  ]);
  await waitForLive(h.pool, ACME.id, 5);
  await waitForLive(h.pool, OTHER.id, 2);
  await waitForLive(h.pool, ROOT.id, 1);
  // alice refreshes 7 s later (same contact and Call-ID, First-Registration false).
  await h.broker.publish([kazooBinding({ ...aliceFields, ts: t0 + 7, first: false })]);
  await waitForRefresh();
});

async function waitForRefresh() {
  await eventually(
    async () =>
      (
        await h.pool.query(
          `SELECT refresh_count FROM registrations WHERE account_id = $1 AND username = 'alice'`,
          [ACME.id],
        )
      ).rows[0]?.refresh_count,
    (n) => n === 1,
    { what: "alice's refresh" },
  );
}

afterAll(async () => {
  await api?.close();
  await h?.stop();
});

const listPath = (id: string) => `/v2/accounts/${id}/registrations`;

describe('GET /v2/accounts/{ACCOUNT_ID}/registrations', () => {
  it('lists the live bindings of the account, each in Kazoo item form, in the envelope', async () => {
    const res = await http(api.url, 'GET', listPath(ACME.id), { token: acmeToken });
    const b = expectEnvelope(res, { status: 200, token: acmeToken });
    expect(Array.isArray(b.data)).toBe(true);
    expect(b.data.map((i: { username: string }) => i.username).sort()).toEqual([
      'alice',
      'bob',
      'carol',
      'dave',
      'erin',
    ]);
    // Kazoo always answers page_size (= items returned); no next page.
    expect(b.page_size).toBe(5);
    expect(b).not.toHaveProperty('next_start_key');
    expect(b.revision).toEqual(expect.any(String));
    // Never the string "undefined", never null.
    for (const item of b.data) {
      for (const [k, v] of Object.entries(item)) {
        expect({ k, v }).not.toEqual({ k, v: 'undefined' });
        expect({ k, v }).not.toEqual({ k, v: null });
      }
    }
  });

  it('a binding with every value known carries exactly the seed keys plus the registrar extras', async () => {
    const res = await http(api.url, 'GET', listPath(ACME.id), { token: acmeToken });
    const alice = res.json.data.find((i: { username: string }) => i.username === 'alice');
    expect(Object.keys(alice).sort()).toEqual(ALL_KEYS);
    expect(alice).toEqual({
      account_name: 'Acme Corp',
      account_realm: ACME.realm,
      authorizing_id: '0f0e0d0c0b0a09080706050403020100',
      authorizing_type: 'device',
      call_id: 'alice-call-1@192.0.2.10',
      // The original contact without < and >.
      contact:
        'sip:alice@192.0.2.10:5080;transport=udp;+sip.instance="urn:uuid:00000000-0000-1000-8000-001565a1b2c3"',
      contact_ip: '192.0.2.10',
      contact_port: 5080,
      // Gregorian seconds of the last registration event.
      event_timestamp: t0 + 7 + G,
      expires: expect.any(Number),
      from_host: ACME.realm,
      from_user: 'alice',
      network_ip: '198.51.100.7',
      network_port: '34567',
      original_contact: ALICE_CONTACT,
      owner_id: 'aa00bb11cc22dd33ee44ff5566778899',
      proxy_ip: '10.20.0.5',
      proxy_port: 5060,
      realm: ACME.realm,
      suppress_unregister_notify: true,
      to_host: ACME.realm,
      to_user: 'alice',
      user_agent: 'Yealink SIP-T46S 66.86.0.15',
      username: 'alice',
      proxy_path: 'sip:10.20.0.5:5060;transport=udp',
      proxy_protocol: 'udp',
      registrar_node: 'kamailio@px1.example.net',
      source_ip: '203.0.113.50',
      source_port: '40123',
      initial_registration: t0 + G,
      last_registration: t0 + 7 + G,
    });
    // Kazoo's expires is the granted expiry (wire-formats.md §5: plus the registrar's 180 s
    // grace), never a countdown.
    expect([600, 780]).toContain(alice.expires);
  });

  it('a missing value is omitted, never "undefined" or null', async () => {
    const res = await http(api.url, 'GET', listPath(ACME.id), { token: acmeToken });
    const bob = res.json.data.find((i: { username: string }) => i.username === 'bob');
    for (const absent of [
      'user_agent',
      'proxy_path',
      'proxy_ip',
      'proxy_port',
      'proxy_protocol',
      'source_ip',
      'source_port',
      'registrar_node',
      'network_ip',
      'network_port',
      'owner_id',
      'authorizing_id',
      'authorizing_type',
      'suppress_unregister_notify',
    ])
      expect(Object.keys(bob)).not.toContain(absent);
    expect(bob).toMatchObject({
      account_name: 'Acme Corp',
      account_realm: ACME.realm,
      call_id: 'bob-call',
      contact: 'sip:bob@192.0.2.20:5062',
      original_contact: '<sip:bob@192.0.2.20:5062>',
      contact_ip: '192.0.2.20',
      contact_port: 5062,
      event_timestamp: t0 + 1 + G,
      initial_registration: t0 + 1 + G,
      last_registration: t0 + 1 + G,
      realm: ACME.realm,
      username: 'bob',
      from_user: 'bob',
      from_host: ACME.realm,
      to_user: 'bob',
      to_host: ACME.realm,
    });
    expect(res.text).not.toContain('undefined');
    expect(res.text).not.toContain('null');
  });

  it('contact_ip/contact_port are parsed from the contact, default ports filled in, contact_port and proxy_port integers (cb_registrations:maybe_default_port/3, Kazoo 4.1+)', async () => {
    const res = await http(api.url, 'GET', listPath(ACME.id), { token: acmeToken });
    const by = (u: string) => res.json.data.find((i: { username: string }) => i.username === u);
    expect(by('carol')).toMatchObject({
      contact: 'sip:carol@192.0.2.30;transport=tls',
      contact_ip: '192.0.2.30',
      contact_port: 5061,
    });
    expect(by('dave')).toMatchObject({
      contact: 'sips:dave@192.0.2.40',
      contact_ip: '192.0.2.40',
      contact_port: 5061,
    });
    expect(by('erin')).toMatchObject({
      contact: '"Erin" sip:erin@192.0.2.50;expires=600',
      original_contact: '"Erin" <sip:erin@192.0.2.50>;expires=600',
      contact_ip: '192.0.2.50',
      contact_port: 5060,
    });
    for (const i of res.json.data) {
      expect(i.contact).not.toMatch(/[<>]/);
      // Kazoo 4.3: contact_port from maybe_default_port/3 and proxy_port read with
      // kz_json:get_integer_value (ecallmgr_registrar) are integers; network_port and
      // source_port are kept as Kamailio sent them (strings).
      for (const k of ['contact_port', 'proxy_port'])
        if (k in i) expect({ k, type: typeof i[k] }).toEqual({ k, type: 'number' });
      for (const k of ['source_port', 'network_port'])
        if (k in i) expect({ k, type: typeof i[k] }).toEqual({ k, type: 'string' });
      for (const k of ['event_timestamp', 'initial_registration', 'last_registration'])
        expect({ k, type: typeof i[k], gregorian: i[k] > G }).toEqual({
          k,
          type: 'number',
          gregorian: true,
        });
    }
  });

  it('echoes X-Request-ID in the body and the header; generates one otherwise', async () => {
    const res = await http(api.url, 'GET', listPath(ACME.id), {
      token: acmeToken,
      headers: { 'X-Request-ID': 'req-e2e-0001' },
    });
    expectEnvelope(res, { status: 200, token: acmeToken, requestId: 'req-e2e-0001' });
    const a = await http(api.url, 'GET', listPath(ACME.id), { token: acmeToken });
    const b = await http(api.url, 'GET', listPath(ACME.id), { token: acmeToken });
    expectEnvelope(a, { status: 200, token: acmeToken });
    expectEnvelope(b, { status: 200, token: acmeToken });
    expect(a.json.request_id).not.toBe(b.json.request_id);
    // Errors too.
    const err = await http(api.url, 'GET', listPath(ACME.id), {
      headers: { 'X-Request-ID': 'req-e2e-0002' },
    });
    expectKazooError(
      err,
      401,
      'invalid_credentials',
      { message: 'invalid credentials' },
      { requestId: 'req-e2e-0002', token: '' },
    );
  });

  it('a binding past its expiry is neither listed nor counted, even before the sweeper ended it', async () => {
    const { rows } = await h.pool.query(
      `SELECT (SELECT count(*) FROM registrations WHERE username = 'zed')::int +
              (SELECT count(*) FROM registration_history WHERE username = 'zed')::int AS n`,
    );
    expect(rows[0].n).toBeGreaterThan(0); // it was ingested
    const res = await http(api.url, 'GET', listPath(ACME.id), { token: acmeToken });
    expect(res.json.data.map((i: { username: string }) => i.username)).not.toContain('zed');
    const count = await http(api.url, 'GET', `${listPath(ACME.id)}/count`, { token: acmeToken });
    expect(count.json.data).toEqual({ count: 5 });
  });

  it('a trailing slash names the same collection (the route table accepts it): not a 405 that allows GET', async () => {
    const plain = await http(api.url, 'GET', listPath(ACME.id), { token: acmeToken });
    const slash = await http(api.url, 'GET', `${listPath(ACME.id)}/`, { token: acmeToken });
    const b = expectEnvelope(slash, { status: 200, token: acmeToken });
    expect(b.data).toEqual(plain.json.data);
    const count = await http(api.url, 'GET', `${listPath(ACME.id)}/count/`, { token: acmeToken });
    expect(expectEnvelope(count, { status: 200, token: acmeToken }).data).toEqual({ count: 5 });
  });

  it('an account id that is not 32 hex digits is not served', async () => {
    const res = await http(api.url, 'GET', listPath('not-an-account'), { token: acmeToken });
    expectKazooError(res, 403, 'forbidden', { message: 'forbidden' }, { token: acmeToken });
  });
});

describe('GET /v2/accounts/{ACCOUNT_ID}/registrations/count', () => {
  it('counts the live bindings of the account', async () => {
    const res = await http(api.url, 'GET', `${listPath(ACME.id)}/count`, { token: acmeToken });
    const b = expectEnvelope(res, { status: 200, token: acmeToken });
    expect(b.data).toEqual({ count: 5 });
    const other = await http(api.url, 'GET', `${listPath(OTHER.id)}/count`, {
      token: otherToken,
    });
    expect(expectEnvelope(other, { status: 200, token: otherToken }).data).toEqual({ count: 2 });
  });

  it('equals the length of the list', async () => {
    const list = await http(api.url, 'GET', listPath(ACME.id), { token: acmeToken });
    const count = await http(api.url, 'GET', `${listPath(ACME.id)}/count`, { token: acmeToken });
    expect(count.json.data.count).toBe(list.json.data.length);
  });
});

describe('GET /v2/registrations/count', () => {
  it('a super-admin gets the count over every account', async () => {
    const res = await http(api.url, 'GET', '/v2/registrations/count', { token: rootToken });
    const b = expectEnvelope(res, { status: 200, token: rootToken });
    expect(b.data).toEqual({ count: await liveCount(h.pool) });
    expect(b.data.count).toBe(8);
  });

  it('any other account gets 403 in the envelope', async () => {
    const res = await http(api.url, 'GET', '/v2/registrations/count', { token: acmeToken });
    expectKazooError(res, 403, 'forbidden', { message: 'forbidden' }, { token: acmeToken });
  });

  it('without a token: 401', async () => {
    const res = await http(api.url, 'GET', '/v2/registrations/count');
    expectKazooError(res, 401, 'invalid_credentials', { message: 'invalid credentials' });
  });
});

describe('405 for the other methods, with Allow', () => {
  const METHODS = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'];
  const cases: [string, () => string, string[]][] = [
    ['…/registrations', () => listPath(ACME.id), ['GET', 'DELETE']],
    ['…/registrations/count', () => `${listPath(ACME.id)}/count`, ['GET']],
    ['…/registrations/{USERNAME}', () => `${listPath(ACME.id)}/alice`, ['DELETE']],
    ['/v2/registrations/count', () => '/v2/registrations/count', ['GET']],
    ['/v2/api_auth', () => '/v2/api_auth', ['PUT']],
  ];
  for (const [name, path, allowed] of cases) {
    for (const method of METHODS.filter((m) => !allowed.includes(m))) {
      // DELETE …/registrations/count has its own test below.
      if (name === '…/registrations/count' && method === 'DELETE') continue;
      it(`${method} ${name} → 405, Allow: ${allowed.join(', ')}`, async () => {
        const res = await http(api.url, method, path(), {
          token: acmeToken,
          body: ['PUT', 'POST', 'PATCH'].includes(method) ? { data: {} } : undefined,
        });
        expectKazooError(
          res,
          405,
          'invalid_method',
          { message: 'method not allowed' },
          { token: acmeToken },
        );
        const allow = (res.headers.get('allow') ?? '')
          .split(',')
          .map((m) => m.trim().toUpperCase())
          .filter((m) => METHODS.includes(m));
        expect(allow.sort()).toEqual([...allowed].sort());
      });
    }
  }

  it('DELETE …/registrations/history and …/changes name SIP users (only count is reserved, as in Kazoo)', async () => {
    for (const name of ['history', 'changes']) {
      const res = await http(api.url, 'DELETE', `${listPath(ACME.id)}/${name}`, {
        token: acmeToken,
      });
      // crossbar_util:response_bad_identifier/2: message "bad identifier", data [Username].
      expectKazooError(res, 404, 'bad identifier', [name], { token: acmeToken });
    }
  });

  it('DELETE with Content-Type: application/json and no body is read as {} (as crossbar does), not a 400', async () => {
    const res = await http(api.url, 'DELETE', `${listPath(ACME.id)}/nobody-here`, {
      token: acmeToken,
      headers: { 'content-type': 'application/json' },
    });
    // The flush itself ran: the username is unknown, so Kazoo's 404 (not a body error).
    expectKazooError(res, 404, 'bad identifier', ['nobody-here'], { token: acmeToken });
    const malformed = await http(api.url, 'PUT', '/v2/api_auth', {
      rawBody: '{"data":',
      headers: { 'content-type': 'application/json' },
    });
    expect(malformed.status).toBe(400);
    expectEnvelope(malformed, { status: 400 });
  });

  it('DELETE …/registrations/count → 405 (count is GET only, as in Kazoo), nothing flushed', async () => {
    const before = await liveCount(h.pool, ACME.id);
    const res = await http(api.url, 'DELETE', `${listPath(ACME.id)}/count`, { token: acmeToken });
    expectKazooError(
      res,
      405,
      'invalid_method',
      { message: 'method not allowed' },
      { token: acmeToken },
    );
    expect(res.headers.get('allow')).toMatch(/\bGET\b/);
    expect(await liveCount(h.pool, ACME.id)).toBe(before);
  });

  it('an unknown path is a 404 in the envelope, not a 405', async () => {
    const res = await http(api.url, 'GET', '/v2/accounts/nope/registrations/x/y', {
      token: acmeToken,
    });
    const b = expectEnvelope(res, { status: 404, token: acmeToken });
    expect(b.data).toEqual(expect.any(Object));
  });
});

describe('PUT /v2/api_auth', () => {
  it('a good API key buys a token in the envelope, and the token works', async () => {
    const res = await http(api.url, 'PUT', '/v2/api_auth', {
      body: { data: { api_key: acmeKey } },
      headers: { 'X-Request-ID': 'login-0001' },
    });
    const b = expectEnvelope(res, { status: 201, requestId: 'login-0001' });
    expect(b.auth_token).toMatch(/^\S{20,}$/);
    expect(b.auth_token).not.toBe(acmeKey);
    expect(b.auth_token).not.toBe(acmeToken);
    expect(b.data.account_id).toBe(ACME.id);
    const list = await http(api.url, 'GET', `${listPath(ACME.id)}/count`, {
      token: b.auth_token,
    });
    expect(expectEnvelope(list, { status: 200, token: b.auth_token }).data).toEqual({ count: 5 });
  });

  it('JSON sent as a form (curl -d without a Content-Type, as in the README) works as in Kazoo', async () => {
    const res = await http(api.url, 'PUT', '/v2/api_auth', {
      rawBody: JSON.stringify({ data: { api_key: acmeKey } }),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const b = expectEnvelope(res, { status: 201 });
    expect(b.data.account_id).toBe(ACME.id);
    const count = await http(api.url, 'GET', `${listPath(ACME.id)}/count`, {
      token: b.auth_token,
    });
    expect(expectEnvelope(count, { status: 200, token: b.auth_token }).data).toEqual({ count: 5 });
  });

  it('a real form without data.api_key: 400 validation error naming api_key', async () => {
    const res = await http(api.url, 'PUT', '/v2/api_auth', {
      rawBody: `api_key=${acmeKey}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectKazooError(res, 400, 'validation error', {
      api_key: { required: { message: 'data.api_key is required' } },
    });
  });

  it('the token expires after the configured lifetime (default one hour)', async () => {
    const res = await http(api.url, 'PUT', '/v2/api_auth', {
      body: { data: { api_key: acmeKey } },
    });
    const { rows } = await h.pool.query(
      `SELECT extract(epoch from (expires_at - created_at))::int AS ttl FROM auth_tokens
        ORDER BY created_at DESC LIMIT 1`,
    );
    expect(res.status).toBe(201);
    expect(rows[0].ttl).toBe(3600);
  });

  it('API keys and tokens are stored hashed', async () => {
    const { rows: keys } = await h.pool.query(`SELECT key_hash FROM api_keys`);
    const { rows: tokens } = await h.pool.query(`SELECT token_hash FROM auth_tokens`);
    const stored = [...keys.map((r) => r.key_hash), ...tokens.map((r) => r.token_hash)]
      .map((b: Buffer) => [b.toString('hex'), b.toString('utf8'), b.toString('base64url')])
      .flat();
    for (const secret of [acmeKey, acmeToken, rootToken]) expect(stored).not.toContain(secret);
  });

  it('a revoked API key: 401 invalid_credentials', async () => {
    const key = await api.credentials.createApiKey(ACME.id);
    await h.pool.query(
      `UPDATE api_keys SET revoked_at = now() WHERE key_hash = sha256(convert_to($1, 'UTF8'))`,
      [key],
    );
    const res = await http(api.url, 'PUT', '/v2/api_auth', { body: { data: { api_key: key } } });
    expectKazooError(res, 401, 'invalid_credentials', { message: 'invalid credentials' });
  });

  it('a wrong API key: 401 invalid_credentials', async () => {
    const res = await http(api.url, 'PUT', '/v2/api_auth', {
      body: { data: { api_key: 'f'.repeat(64) } },
      headers: { 'X-Request-ID': 'login-bad' },
    });
    expectKazooError(
      res,
      401,
      'invalid_credentials',
      { message: 'invalid credentials' },
      { requestId: 'login-bad', token: '' },
    );
  });

  it('a body without data.api_key: 400 validation error on api_key', async () => {
    expectValidationError(
      await http(api.url, 'PUT', '/v2/api_auth', { body: { data: {} } }),
      'api_key',
    );
    expectValidationError(
      await http(api.url, 'PUT', '/v2/api_auth', { body: { api_key: acmeKey } }),
      'api_key',
    );
    expectValidationError(
      await http(api.url, 'PUT', '/v2/api_auth', { body: { data: { api_key: 12345 } } }),
      'api_key',
    );
  });

  it('a malformed JSON body: 400 in the envelope', async () => {
    const res = await http(api.url, 'PUT', '/v2/api_auth', {
      rawBody: '{"data": {"api_key": ',
      headers: { 'X-Request-ID': 'login-malformed' },
    });
    const b = expectEnvelope(res, { status: 400, requestId: 'login-malformed' });
    expect(b.data).toEqual(expect.any(Object));
    expect(res.text).not.toMatch(/at \S+\.(js|ts):\d+/); // no stack trace
  });
});

// Monster UI is a browser app, usually served from another origin than crossbar's :8000; Kazoo's
// crossbar answers CORS preflights (OPTIONS) and puts Access-Control-* headers on every answer,
// otherwise the browser never sends the X-Auth-Token request.
describe('browser clients (Monster UI): CORS as Kazoo crossbar does it', () => {
  it('a preflight for GET with X-Auth-Token is allowed', async () => {
    const res = await fetch(`${api.url}${listPath(ACME.id)}`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://monster-ui.example.net',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-auth-token,content-type',
      },
    });
    await res.text();
    expect(res.status).toBeGreaterThanOrEqual(200);
    expect(res.status).toBeLessThan(300);
    expect(res.headers.get('access-control-allow-origin')).toMatch(
      /^(\*|http:\/\/monster-ui\.example\.net)$/,
    );
    expect((res.headers.get('access-control-allow-headers') ?? '').toLowerCase()).toContain(
      'x-auth-token',
    );
    expect(res.headers.get('access-control-allow-methods') ?? '').toMatch(/\bGET\b/);
  });

  it('a preflight with the headers Monster UI adds (X-Kazoo-Cluster-ID) is allowed, as crossbar allows them', async () => {
    const res = await fetch(`${api.url}${listPath(ACME.id)}/alice`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://monster-ui.example.net',
        'access-control-request-method': 'DELETE',
        'access-control-request-headers': 'content-type,x-auth-token,x-kazoo-cluster-id',
      },
    });
    await res.text();
    expect(res.status).toBeLessThan(300);
    const allowed = (res.headers.get('access-control-allow-headers') ?? '')
      .toLowerCase()
      .split(',')
      .map((h) => h.trim());
    for (const h of ['content-type', 'x-auth-token', 'x-kazoo-cluster-id'])
      expect(allowed).toContain(h);
    expect(res.headers.get('access-control-allow-methods') ?? '').toMatch(/\bDELETE\b/);
    expect(res.headers.get('x-request-id')).toMatch(/^\S+$/);
  });

  it('the actual cross-origin answer carries Access-Control-Allow-Origin', async () => {
    const res = await http(api.url, 'GET', listPath(ACME.id), {
      token: acmeToken,
      headers: { origin: 'http://monster-ui.example.net' },
    });
    expectEnvelope(res, { status: 200, token: acmeToken });
    expect(res.headers.get('access-control-allow-origin')).toMatch(
      /^(\*|http:\/\/monster-ui\.example\.net)$/,
    );
  });
});
