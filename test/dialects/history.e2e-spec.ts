// GET /v2/accounts/{ACCOUNT_ID}/registrations/history over real HTTP, Postgres and RabbitMQ:
// each binding segment's start, refreshes, end and reason (unregistered, expired, flushed,
// replaced), the filters, start_key paging, validation, and retention pruning.
import { accountIdOf, kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { DialectHarness, TestAccount, xAuth } from './dialect-harness';

const GREGORIAN = 62167219200;

let h: DialectHarness;
let acme: TestAccount;
const ts = nowS() - 60;

const path = (account: TestAccount, q = '') =>
  `/v2/accounts/${account.id}/registrations/history${q ? `?${q}` : ''}`;

beforeAll(async () => {
  // A segment older than the retention (30 days): the ingest app's sweeper prunes it at start.
  const oldRealm = `acme.hist.h8.test`;
  h = await DialectHarness.start('hist', (pool) =>
    pool
      .query(
        `INSERT INTO registration_history (registration_id, realm_key, username_key, contact_uri, account_id,
         origin, realm, username, original_contact, expires, event_us, first_registered_at,
         last_registered_at, expires_at, ended_at, end_reason)
       VALUES (1, $1, 'old', 'sip:old@10.0.0.1', $2, 'kazoo', $1, 'old', '<sip:old@10.0.0.1>', 0, 0,
         now() - interval '41 days', now() - interval '41 days', now() - interval '40 days',
         now() - interval '40 days', 'expired')`,
        [oldRealm, accountIdOf(oldRealm)],
      )
      .then(() => undefined),
  );
  acme = await h.account('acme');
  expect(acme.realm).toBe(oldRealm);
  const realm = acme.realm;
  const k = (username: string, o: Partial<Parameters<typeof kazoo>[0]>) =>
    kazoo({ realm, username, accountId: acme.id, ts, ...o });
  const nat = { 'Source-IP': '198.51.100.5' };
  await h.broker.publish([
    // 500: registered, refreshed twice, unregistered.
    k('500', { callId: 'h-500', ts, extra: nat }),
    k('500', { callId: 'h-500', ts: ts + 1, first: false, extra: nat }),
    k('500', { callId: 'h-500', ts: ts + 2, first: false, extra: nat }),
    k('500', { callId: 'h-500', ts: ts + 3, expires: 0, extra: nat }),
    // 501: registered, flushed below through the Kazoo API.
    k('501', { callId: 'h-501', ts: ts + 4 }),
    // 502: the same Call-ID from a new contact replaces the old binding.
    k('502', { callId: 'h-502', contact: '<sip:502@192.0.2.1:5060>', ts: ts + 5 }),
    k('502', { callId: 'h-502', contact: '<sip:502@192.0.2.2:5060>', ts: ts + 6 }),
    // 503: a one-second registration that expires.
    k('503', { callId: 'h-503', ts: ts + 7, expires: 1 }),
    // 504: an IPv6 phone that unregisters.
    k('504', { callId: 'h-504', contact: '<sip:504@[2001:db8::504]:5060>', ts: ts + 8 }),
    k('504', {
      callId: 'h-504',
      contact: '<sip:504@[2001:db8::504]:5060>',
      ts: ts + 9,
      expires: 0,
    }),
  ]);
  await eventually(
    async () =>
      (await h.pool.query(`SELECT 1 FROM registration_history WHERE realm_key = $1`, [realm]))
        .rowCount,
    (n) => n === 4,
    { what: 'unregistered, replaced and expired segments' },
  );
  const flush = await h.request(
    'DELETE',
    `/v2/accounts/${acme.id}/registrations/501`,
    xAuth(acme.token),
  );
  expect(flush.status).toBe(200);
});

afterAll(async () => {
  await h?.stop();
});

describe('history', () => {
  it('lists every ended segment, newest first, with its life', async () => {
    const r = await h.request('GET', path(acme), xAuth(acme.token));
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('success');
    expect(r.json.page_size).toBe(5);
    expect(r.json).not.toHaveProperty('next_start_key');
    const items = r.json.data as Record<string, unknown>[];
    expect(items.map((x) => [x.username, x.end_reason])).toEqual([
      ['501', 'flushed'],
      ['504', 'unregistered'],
      ['503', 'expired'],
      ['502', 'replaced'],
      ['500', 'unregistered'],
    ]);
    const { rows } = await h.pool.query(
      `SELECT id FROM registrations WHERE realm_key = $1 AND username_key = '500'`,
      [acme.realm],
    );
    // (No extension_id here: the store assigns none to a user whose whole life fell in one batch.)
    const { extension_id: _extension, ...first } = items[4];
    expect(first).toEqual({
      registration_id: Number(rows[0].id),
      username: '500',
      realm: acme.realm,
      contact: 'sip:500@10.1.2.3:5060;transport=UDP',
      original_contact: '<sip:500@10.1.2.3:5060;transport=UDP>',
      contact_ip: '10.1.2.3',
      contact_port: 5060,
      source_ip: '198.51.100.5',
      source_port: 5070,
      call_id: 'h-500',
      user_agent: expect.any(String),
      proxy_ip: '127.0.0.1',
      proxy_path: 'sip:127.0.0.1:5060;transport=udp',
      registrar_node: 'kamailio@harness.kamailio',
      initial_registration: ts + GREGORIAN,
      last_registration: ts + 2 + GREGORIAN,
      refresh_count: 2,
      ended: ts + 3 + GREGORIAN,
      end_reason: 'unregistered',
      duration_seconds: 3,
    });
    expect(items[3]).toMatchObject({
      contact_ip: '192.0.2.1',
      ended: ts + 6 + GREGORIAN,
      extension_id: expect.any(Number),
    });
    expect(items[2]).toMatchObject({ ended: ts + 8 + GREGORIAN, refresh_count: 0 });
    expect(items[0].ended).toBeGreaterThan(nowS() - 30 + GREGORIAN);
  });

  it('filters by username, contact_ip (IPv6 in any spelling), reason and time', async () => {
    const names = async (q: string) => {
      const r = await h.request('GET', path(acme, q), xAuth(acme.token));
      expect([q, r.status]).toEqual([q, 200]);
      return (r.json.data as { username: string }[]).map((x) => x.username);
    };
    expect(await names('username=500')).toEqual(['500']);
    expect(await names('username=nobody')).toEqual([]);
    expect(await names('reason=flushed')).toEqual(['501']);
    expect(await names('reason=unregistered')).toEqual(['504', '500']);
    expect(await names('contact_ip=2001:DB8:0::504')).toEqual(['504']);
    expect(await names('contact_ip=192.0.2.1')).toEqual(['502']);
    // Both bounds inclusive: 502's old contact was replaced at ts + 6, 504 unregistered at ts + 9;
    // 503 expired in between (at ts + 8 s + 999,999 µs: Kamailio's whole-second timestamps count
    // from the end of their second).
    expect(
      await names(`created_from=${ts + 6 + GREGORIAN}&created_to=${ts + 9 + GREGORIAN}`),
    ).toEqual(['504', '503', '502']);
    expect(
      await names(`created_from=${ts + 6 + GREGORIAN}&created_to=${ts + 8 + GREGORIAN}`),
    ).toEqual(['502']);
    expect(await names(`created_from=${ts + 9}`)).toEqual(['501', '504']);
    expect(await names(`created_to=${new Date((ts + 3) * 1000).toISOString()}`)).toEqual(['500']);
    expect(await names(`username=500&reason=expired`)).toEqual([]);
  });

  it('pages with page_size and start_key', async () => {
    const seen: string[] = [];
    let q = 'page_size=2';
    for (let pages = 0; pages < 5; pages++) {
      const r = await h.request('GET', path(acme, q), xAuth(acme.token));
      expect(r.status).toBe(200);
      expect(r.json.page_size).toBe(r.json.data.length);
      seen.push(...r.json.data.map((x: { username: string }) => x.username));
      if (!r.json.next_start_key) break;
      expect(r.json.data).toHaveLength(2);
      q = `page_size=2&start_key=${r.json.next_start_key}`;
    }
    expect(seen).toEqual(['501', '504', '503', '502', '500']);
  });

  it.each([
    ['reason=gone', 'reason'],
    ['page_size=0', 'page_size'],
    ['page_size=1001', 'page_size'],
    ['start_key=nonsense', 'start_key'],
    ['created_from=yesterday', 'created_from'],
    [`created_from=${ts + GREGORIAN}&created_to=${ts - 1 + GREGORIAN}`, 'created_to'],
    ['username=a&username=b', 'username'],
  ])('answers %s with a validation error', async (q, field) => {
    const r = await h.request('GET', path(acme, q), xAuth(acme.token));
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ status: 'error', error: '400', message: 'validation error' });
    expect(Object.keys(r.json.data)).toEqual([field]);
  });

  it('is read with GET only; DELETE on the path flushes a SIP user named "history", as Kazoo reserves only count', async () => {
    const r = await h.request('PUT', path(acme), xAuth(acme.token));
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, DELETE');
  });

  it('no longer holds segments past the retention: the ingest sweeper pruned them', async () => {
    const { rows } = await h.pool.query(
      `SELECT count(*)::int AS n FROM registration_history WHERE realm_key = $1 AND username_key = 'old'`,
      [acme.realm],
    );
    expect(rows[0].n).toBe(0);
    expect(await h.request('GET', path(acme, 'username=old'), xAuth(acme.token))).toMatchObject({
      status: 200,
      json: { data: [] },
    });
  });
});
