// The 15 request shapes issue 13 found answering 500 (a NUL byte in a path segment or paging
// key, inherited names as filters, times and seqs out of range), each now a 400 in its
// dialect's envelope; the change feed's HEAD answering at once; and /readyz's 503 keeping its
// reason. Real API app over the real Postgres.
import { TcpProxy } from '../support/tcp-proxy';
import {
  accountIdFor,
  accountWithToken,
  ApiHarness,
  expectValidationError,
  http,
  HttpResult,
  startApi,
} from '../support/api-harness';
import { TEST_DATABASE_URL } from '../support/test-env';
import { eventually } from '../support/poll';

let api: ApiHarness;
let account: { id: string; apiKey: string; token: string };

const ACCOUNT = {
  id: accountIdFor('edge-input-acme'),
  name: 'Edge input',
  realm: 'acme.edge-input.api-e2e.test',
};
const basic = (apiKey: string) => ({
  authorization: `Basic ${Buffer.from(`admin:${apiKey}`).toString('base64')}`,
});
const startKeyOf = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

beforeAll(async () => {
  api = await startApi();
  account = await accountWithToken(api, ACCOUNT);
});

afterAll(async () => {
  await api?.close();
});

/** A sipXcom / hosted-PBX error: `{"error": "bad_request", "message": …}`, no stack trace. */
function expectDialectBadRequest(res: HttpResult) {
  expect({ status: res.status, text: res.text }).toEqual({ status: 400, text: expect.any(String) });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.json).toEqual({ error: 'bad_request', message: expect.any(String) });
  expect(res.text).not.toMatch(/\bat .*\.(ts|js):\d+|postgres|invalid byte sequence|0x00/i);
}

describe('the 15 shapes of issue 13 answer 400 in their envelope', () => {
  const kazooList = () => `/v2/accounts/${account.id}/registrations`;

  it('DELETE …/registrations/%00 (Kazoo)', async () => {
    const res = await http(api.url, 'DELETE', `${kazooList()}/%00`, { token: account.token });
    expectValidationError(res, 'username', account.token);
  });

  it.each([
    ['GET', 'user'],
    ['DELETE', 'user'],
    ['GET', 'callId'],
    ['DELETE', 'callId'],
    ['GET', 'server'],
    ['DELETE', 'server'],
  ])('sipXcom %s …/%s/%%00', async (method, kind) => {
    const res = await http(api.url, method, `/sipxconfig/api/registrations/${kind}/%00`, {
      headers: basic(account.apiKey),
    });
    expectDialectBadRequest(res);
  });

  it('a Kazoo list start_key whose JSON holds \\u0000', async () => {
    const key = startKeyOf(['a\u0000', ACCOUNT.realm, 'sip:a@192.0.2.1']);
    const res = await http(api.url, 'GET', `${kazooList()}?page_size=2&start_key=${key}`, {
      token: account.token,
    });
    expectValidationError(res, 'start_key', account.token);
  });

  it.each(['toString', 'constructor', 'valueOf'])('filter_%s', async (name) => {
    const res = await http(api.url, 'GET', `${kazooList()}?filter_${name}=x`, {
      token: account.token,
    });
    expectValidationError(res, `filter_${name}`, account.token);
  });

  it.each(['created_from', 'created_to'])('history %s=99999999999999999999', async (name) => {
    const res = await http(api.url, 'GET', `${kazooList()}/history?${name}=99999999999999999999`, {
      token: account.token,
    });
    expectValidationError(res, name, account.token);
  });
});

describe('other values that would reach Postgres unchecked', () => {
  const history = () => `/v2/accounts/${account.id}/registrations/history`;

  it.each([
    ['holding \\u0000', ['2024-01-01T00:00:00.000000Z\u0000', '1']],
    ['naming a day that does not exist', ['2024-02-31T00:00:00.000000Z', '1']],
    ['with a time Postgres would read otherwise', ['1', '1']],
  ])('a history start_key %s', async (_what, key) => {
    const res = await http(api.url, 'GET', `${history()}?start_key=${startKeyOf(key)}`, {
      token: account.token,
    });
    expectValidationError(res, 'start_key', account.token);
  });

  it('a NUL in a query value, anywhere (Kazoo)', async () => {
    const res = await http(api.url, 'GET', `${history()}?username=a%00b`, {
      token: account.token,
    });
    expectValidationError(res, 'username', account.token);
  });

  it('a NUL in a JSON body (Kazoo)', async () => {
    const res = await http(api.url, 'PUT', '/v2/api_auth', {
      body: { data: { api_key: 'x\u0000' } },
    });
    expectValidationError(res, 'body');
  });

  it('a NUL in a hosted-PBX query value', async () => {
    const res = await http(api.url, 'GET', '/api/ver1.0/extension/registration?extension_id=%00', {
      headers: { authorization: `Bearer ${account.token}` },
    });
    expectDialectBadRequest(res);
  });

  it('a sipXcom query value too long to be a page position', async () => {
    const res = await http(
      api.url,
      'GET',
      `/sipxconfig/api/registrations?start=${'9'.repeat(9000)}`,
      { headers: basic(account.apiKey) },
    );
    expectDialectBadRequest(res);
  });
});

describe('the change feed', () => {
  const feed = () => `/v2/accounts/${account.id}/registrations/changes`;

  it('since=99999999999999999999 answers 400 before the stream starts', async () => {
    const res = await http(api.url, 'GET', `${feed()}?since=99999999999999999999`, {
      token: account.token,
    });
    expectValidationError(res, 'since', account.token);
  });

  it('Last-Event-ID: 99999999999999999999 answers 400 before the stream starts', async () => {
    const res = await http(api.url, 'GET', feed(), {
      token: account.token,
      headers: { 'last-event-id': '99999999999999999999' },
    });
    expectValidationError(res, 'last-event-id', account.token);
  });

  it('HEAD answers at once with the stream headers and no body', async () => {
    // The deadline only bounds a hang (it used to never answer); it is no timing assertion.
    const res = await fetch(`${api.url}${feed()}`, {
      method: 'HEAD',
      headers: { 'x-auth-token': account.token },
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await res.text()).toBe('');
  });

  it('HEAD without a token is refused like GET', async () => {
    const res = await fetch(`${api.url}${feed()}`, {
      method: 'HEAD',
      signal: AbortSignal.timeout(30_000),
    });
    expect(res.status).toBe(401);
  });
});

describe('HEAD on every route', () => {
  const routes = () =>
    [
      ['/v2/api_auth', {}],
      [`/v2/accounts/${account.id}/registrations`, { 'x-auth-token': account.token }],
      [`/v2/accounts/${account.id}/registrations/count`, { 'x-auth-token': account.token }],
      [`/v2/accounts/${account.id}/registrations/history`, { 'x-auth-token': account.token }],
      [`/v2/accounts/${account.id}/registrations/changes`, { 'x-auth-token': account.token }],
      [`/v2/accounts/${account.id}/registrations/1001`, { 'x-auth-token': account.token }],
      ['/v2/registrations/count', { 'x-auth-token': account.token }],
      ['/v2/registrations/changes/schema', {}],
      ['/sipxconfig/api/registrations', basic(account.apiKey)],
      ['/sipxconfig/api/registrations/user/1001', basic(account.apiKey)],
      ['/sipxconfig/api/registrations/serialNo/001565a1b2c3', basic(account.apiKey)],
      ['/sipxconfig/api/registrations/ip/192.0.2.1', basic(account.apiKey)],
      ['/sipxconfig/api/registrations/callId/x', basic(account.apiKey)],
      ['/sipxconfig/api/registrations/server/x', basic(account.apiKey)],
      ['/api/ver1.0/extension/registration', { authorization: `Bearer ${account.token}` }],
      ['/api/ver1.0/extension/1/registration', { authorization: `Bearer ${account.token}` }],
      ['/healthz', {}],
      ['/readyz', {}],
      ['/metrics', {}],
    ] as [string, Record<string, string>][];

  it('answers, with no body and no server error', async () => {
    for (const [path, headers] of routes()) {
      const res = await fetch(`${api.url}${path}`, {
        method: 'HEAD',
        headers,
        signal: AbortSignal.timeout(30_000),
      });
      expect({ path, status: res.status < 500 }).toEqual({ path, status: true });
      expect(await res.text()).toBe('');
    }
  });
});

describe('/readyz', () => {
  it('answers 503 with its reason when the database is gone, not a Kazoo envelope', async () => {
    const proxy = TcpProxy.inFrontOf(TEST_DATABASE_URL);
    let down: ApiHarness | undefined;
    try {
      await proxy.up();
      down = await startApi({ DATABASE_URL: proxy.reach(TEST_DATABASE_URL) });
      expect((await http(down.url, 'GET', '/readyz')).status).toBe(200);
      await proxy.down();
      const res = await eventually(
        () => http(down!.url, 'GET', '/readyz'),
        (r) => r.status === 503,
        { timeoutMs: 30_000, what: '/readyz to answer 503' },
      );
      expect(res.json).toEqual({ status: 'unavailable', database: expect.any(String) });
      expect(res.json.database).not.toBe('');
      expect(res.text).not.toContain('Http Exception');
    } finally {
      await proxy.down();
      await down?.close().catch(() => undefined);
    }
  });
});
