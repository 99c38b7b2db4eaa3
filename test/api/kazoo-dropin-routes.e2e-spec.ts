// The routes and request forms real Kazoo clients use beside the /v2/accounts/{id} list, each
// expectation written from Kazoo 4.3's sources (2600hz/kazoo, branch 4.3):
// - applications/crossbar/src/modules/cb_registrations.erl: get_realm/1 (no account → realm
//   "all": GET /v2/registrations lists every binding), allowed_methods/0,1, lookup_regs/1,
//   validate_sip_username/2 (unknown user → crossbar_util:response_bad_identifier/2: 404,
//   message "bad identifier", data [Username]);
// - applications/crossbar/src/api_util.erl get_http_verb/2 and maybe_add_post_method/3 (a POST
//   with ?verb=delete is a DELETE), api_resource.erl to_json/3 (?accept=csv → to_csv);
// - crossbar serves /v1 and /v2 from the same cb_ modules (api_version in cb_context).
import {
  accountIdFor,
  accountWithToken,
  ApiHarness,
  expectEnvelope,
  expectKazooError,
  http,
  startApi,
} from '../support/api-harness';
import { kazooBinding, liveCount, waitForLive } from '../support/api-fixtures';
import { CommandTap } from '../support/command-tap';
import { parseCsv } from '../support/csv';
import { Harness, startIngest } from '../support/ingest-harness';
import { nowS } from '../support/messages';
import { eventually } from '../support/poll';

const ROOT = { id: accountIdFor('dropin-root'), name: 'Dropin Root', realm: 'root.dropin.test' };
const A = { id: accountIdFor('dropin-a'), name: 'Dropin A', realm: 'a.dropin.test' };
const B = { id: accountIdFor('dropin-b'), name: 'Dropin B', realm: 'b.dropin.test' };
const A_USERS = ['a1', 'a2', 'a3', 'a4'];
const B_USERS = ['b1', 'b2', 'b3'];

let h: Harness;
let api: ApiHarness;
let tap: CommandTap;
let root: string;
let tokenA: string;

beforeAll(async () => {
  h = await startIngest();
  api = await startApi();
  tap = await CommandTap.open();
  root = (await accountWithToken(api, { ...ROOT, isSuperadmin: true })).token;
  tokenA = (await accountWithToken(api, { ...A, parentId: ROOT.id })).token;
  await accountWithToken(api, { ...B, parentId: ROOT.id });
  const ts = nowS() - 5;
  await h.broker.publish([
    ...A_USERS.map((u) => kazooBinding({ realm: A.realm, username: u, accountId: A.id, ts })),
    ...B_USERS.map((u) => kazooBinding({ realm: B.realm, username: u, accountId: B.id, ts })),
  ]);
  await waitForLive(h.pool, A.id, A_USERS.length);
  await waitForLive(h.pool, B.id, B_USERS.length);
});

afterAll(async () => {
  await tap?.close();
  await api?.close();
  await h?.stop();
});

type Item = { username: string; realm: string; contact_port?: unknown };
const usernames = (items: Item[]) => items.map((i) => i.username).sort();

describe('GET /v2/registrations (cb_registrations:get_realm/1 → realm "all")', () => {
  it('a super-admin gets every account’s bindings, as the account list shows them', async () => {
    const res = await http(api.url, 'GET', '/v2/registrations', { token: root });
    const b = expectEnvelope(res, { status: 200, token: root });
    expect(usernames(b.data)).toEqual([...A_USERS, ...B_USERS].sort());
    const own = await http(api.url, 'GET', `/v2/accounts/${A.id}/registrations`, { token: root });
    const byName = (items: Item[], u: string) => items.find((i) => i.username === u);
    expect(byName(b.data, 'a1')).toEqual(byName(own.json.data, 'a1'));
    expect(typeof byName(b.data, 'a1')?.contact_port).toBe('number');
  });

  it('pages with page_size / start_key → next_start_key, losing and repeating nothing', async () => {
    const seen: string[] = [];
    let startKey: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const q = `page_size=3${startKey ? `&start_key=${startKey}` : ''}`;
      const res = await http(api.url, 'GET', `/v2/registrations?${q}`, { token: root });
      const b = expectEnvelope(res, { status: 200, token: root });
      expect(b.data.length).toBeLessThanOrEqual(3);
      expect(b.page_size).toBe(b.data.length);
      seen.push(...b.data.map((i: Item) => i.username));
      startKey = b.next_start_key;
      if (!startKey) break;
    }
    expect(seen.sort()).toEqual([...A_USERS, ...B_USERS].sort());
  });

  it('filters as the account list does (filter_realm)', async () => {
    const res = await http(api.url, 'GET', `/v2/registrations?filter_realm=${B.realm}`, {
      token: root,
    });
    expect(usernames(expectEnvelope(res, { status: 200 }).data)).toEqual(B_USERS);
  });

  it('answers CSV for Accept: text/csv and for ?accept=csv', async () => {
    for (const [path, headers] of [
      ['/v2/registrations', { accept: 'text/csv' }],
      ['/v2/registrations?accept=csv', {}],
    ] as const) {
      const res = await http(api.url, 'GET', path, { token: root, headers });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/csv/);
      const [header, ...rows] = parseCsv(res.text);
      const u = header.indexOf('username');
      expect(rows.map((r) => r[u]).sort()).toEqual([...A_USERS, ...B_USERS].sort());
    }
  });

  it('is for super-admins only: 403 for an account token, 401 without one', async () => {
    const res = await http(api.url, 'GET', '/v2/registrations', { token: tokenA });
    expectKazooError(res, 403, 'forbidden', { message: 'forbidden' }, { token: tokenA });
    expectKazooError(await http(api.url, 'GET', '/v2/registrations'), 401, 'invalid_credentials', {
      message: 'invalid credentials',
    });
  });

  it('allows GET only (405 with Allow otherwise)', async () => {
    const res = await http(api.url, 'DELETE', '/v2/registrations', { token: root });
    expectEnvelope(res, { status: 405 });
    expect(res.headers.get('allow')).toBe('GET');
  });
});

describe('?accept=csv on the account list (api_resource:to_json/3)', () => {
  it('is the CSV that Accept: text/csv gets', async () => {
    const path = `/v2/accounts/${A.id}/registrations`;
    const tunnelled = await http(api.url, 'GET', `${path}?accept=csv`, { token: tokenA });
    const negotiated = await http(api.url, 'GET', path, {
      token: tokenA,
      headers: { accept: 'text/csv' },
    });
    expect(tunnelled.status).toBe(200);
    expect(tunnelled.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(parseCsv(tunnelled.text)).toEqual(parseCsv(negotiated.text));
  });
});

describe('/v1/ paths are the /v2/ routes', () => {
  it('PUT /v1/api_auth, GET /v1/accounts/{id}/registrations[/count], GET /v1/registrations[/count]', async () => {
    const apiKey = await api.credentials.createApiKey(A.id);
    const login = await http(api.url, 'PUT', '/v1/api_auth', {
      body: { data: { api_key: apiKey } },
    });
    const token = expectEnvelope(login, { status: 201 }).auth_token as string;
    const list = await http(api.url, 'GET', `/v1/accounts/${A.id}/registrations`, { token });
    expect(usernames(expectEnvelope(list, { status: 200, token }).data)).toEqual(A_USERS);
    const count = await http(api.url, 'GET', `/v1/accounts/${A.id}/registrations/count`, { token });
    expect(expectEnvelope(count, { status: 200 }).data).toEqual({ count: A_USERS.length });
    const all = await http(api.url, 'GET', '/v1/registrations', { token: root });
    expect(expectEnvelope(all, { status: 200 }).data.length).toBe(A_USERS.length + B_USERS.length);
    const allCount = await http(api.url, 'GET', '/v1/registrations/count', { token: root });
    expect(expectEnvelope(allCount, { status: 200 }).data).toEqual({
      count: A_USERS.length + B_USERS.length,
    });
  });

  it('DELETE /v1/accounts/{id}/registrations/{user} flushes (zotonic_mod_kazoo’s call)', async () => {
    await tap.take('registrar');
    const res = await http(api.url, 'DELETE', `/v1/accounts/${A.id}/registrations/a4`, {
      token: tokenA,
    });
    expect(expectEnvelope(res, { status: 200, token: tokenA }).data).toBe('ok');
    const flushes = await tap.take('registrar');
    expect(flushes.map((c) => [c.json.Realm, c.json.Username])).toEqual([[A.realm, 'a4']]);
    await eventually(
      () => liveCount(h.pool, A.id),
      (n) => n === A_USERS.length - 1,
      { what: 'a4 flushed' },
    );
  });
});

describe('POST ?verb=delete tunnels a DELETE (api_util:get_http_verb/2)', () => {
  it('flushes one user as DELETE does', async () => {
    await tap.take('registrar');
    const res = await http(
      api.url,
      'POST',
      `/v2/accounts/${A.id}/registrations/a3?verb=delete&check_sync=false`,
      { token: tokenA, body: { data: {} } },
    );
    expect(expectEnvelope(res, { status: 200, token: tokenA }).data).toBe('ok');
    const flushes = await tap.take('registrar');
    expect(flushes.map((c) => [c.json.Realm, c.json.Username])).toEqual([[A.realm, 'a3']]);
  });

  it('an unknown user: crossbar’s 404 body (response_bad_identifier/2: data [Username])', async () => {
    const res = await http(api.url, 'POST', `/v2/accounts/${A.id}/registrations/zz?verb=DELETE`, {
      token: tokenA,
    });
    expectKazooError(res, 404, 'bad identifier', ['zz'], { token: tokenA });
  });

  it('a POST without verb is not allowed: 405 (cb_registrations:allowed_methods/0,1)', async () => {
    const res = await http(api.url, 'POST', `/v2/accounts/${A.id}/registrations/a1`, {
      token: tokenA,
    });
    expectEnvelope(res, { status: 405 });
    expect(res.headers.get('allow')).toBe('DELETE');
  });
});

describe("switches for clients that need Kazoo's exact values", () => {
  let exact: ApiHarness | undefined;
  afterAll(async () => {
    await exact?.close();
  });

  it('KAZOO_EXPIRES_DEVIATION_S=180 adds ecallmgr’s expires_deviation_time; KAZOO_PORT_TYPE=string gives string ports', async () => {
    // ecallmgr_util:maybe_add_expires_deviation/1 adds expires_deviation_time (default 180,
    // ecallmgr.hrl ?EXPIRES_DEVIATION_TIME) to every non-zero Expires it stores.
    exact = await startApi({ KAZOO_EXPIRES_DEVIATION_S: '180', KAZOO_PORT_TYPE: 'string' });
    const path = `/v2/accounts/${A.id}/registrations?filter_username=a1`;
    const plain = await http(api.url, 'GET', path, { token: tokenA });
    const kazoo = await http(exact.url, 'GET', path, { token: tokenA });
    const [p] = expectEnvelope(plain, { status: 200 }).data;
    const [k] = expectEnvelope(kazoo, { status: 200 }).data;
    expect(k.expires).toBe(p.expires + 180);
    expect(k.contact_port).toBe(String(p.contact_port));
    if ('proxy_port' in p) expect(k.proxy_port).toBe(String(p.proxy_port));
  });
});
