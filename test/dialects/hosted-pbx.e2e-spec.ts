// The hosted-PBX /api/ver1.0/extension/…/registration/ API over real HTTP, Postgres and
// RabbitMQ: items field by field, many extensions in the order asked, paging, registered=false
// answered from history (unregistered, expired, flushed), and DELETE publishing the flush.
import { kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { bearer, DialectHarness, TestAccount, xAuth } from './dialect-harness';

let h: DialectHarness;
let acme: TestAccount;
let other: TestAccount;
const ext: Record<string, number> = {};
const ts = nowS();

const API = '/api/ver1.0/extension';

async function extensionId(realm: string, username: string): Promise<number> {
  const { rows } = await h.pool.query(
    `SELECT id FROM extensions WHERE realm_key = $1 AND username_key = $2`,
    [realm, username],
  );
  return rows[0].id as number;
}

beforeAll(async () => {
  h = await DialectHarness.start('pbx');
  acme = await h.account('acme');
  other = await h.account('other');
  await h.broker.publish([
    kazoo({
      realm: acme.realm,
      username: '100',
      contact: '<sip:100@192.168.5.52:5062>',
      callId: 'pbx-100-a',
      ts,
      userAgent: 'Yealink SIP-T46G 28.72.14.5',
      extra: { 'Source-IP': '203.0.113.50', 'Source-Port': '62338' },
    }),
    kazoo({
      realm: acme.realm,
      username: '100',
      contact: '<sip:100@[2001:db8::52]:5060;transport=udp>',
      callId: 'pbx-100-b',
      ts,
      userAgent: 'Grandstream GXP2020 1.2.5.3',
      extra: { 'Source-IP': '2001:db8::99', 'Source-Port': '5060' },
    }),
    kazoo({
      realm: acme.realm,
      username: '101',
      callId: 'pbx-101',
      ts: ts - 20,
      userAgent: 'Snom 710',
    }),
    kazoo({ realm: acme.realm, username: '102', callId: 'pbx-102', ts, expires: 1 }),
    kazoo({ realm: other.realm, username: '200', callId: 'pbx-200', ts }),
  ]);
  await eventually(
    async () => (await h.liveIds(acme.realm)).length + (await h.liveIds(other.realm)).length,
    (n) => n === 4,
    { what: 'the bindings' },
  );
  for (const u of ['100', '101', '102']) ext[u] = await extensionId(acme.realm, u);
  ext['200'] = await extensionId(other.realm, '200');
});

afterAll(async () => {
  await h?.stop();
});

describe('GET one extension', () => {
  it('answers a registered extension with every binding, field by field', async () => {
    const { rows } = await h.pool.query(
      `SELECT id, call_id, extract(epoch from expires_at)::float8 AS e FROM registrations
        WHERE realm_key = $1 AND username_key = '100' ORDER BY call_id`,
      [acme.realm],
    );
    const r = await h.request('GET', `${API}/${ext['100']}/registration/`, bearer(acme.token));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.json.registered).toBe(true);
    expect(r.json.extension_id).toBe(ext['100']);
    expect(Object.keys(r.json)).toEqual(['registered', 'extension_id', 'registrations']);
    const byId = new Map(
      r.json.registrations.map((x: { registration_id: string }) => [x.registration_id, x]),
    );
    expect(byId.get(String(rows[0].id))).toEqual({
      device: 'Yealink SIP-T46G 28.72.14.5',
      real_address: '203.0.113.50:62338',
      contact_address: '192.168.5.52:5062',
      expires: Math.floor(rows[0].e),
      registration_id: String(rows[0].id),
    });
    expect(byId.get(String(rows[1].id))).toEqual({
      device: 'Grandstream GXP2020 1.2.5.3',
      real_address: '[2001:db8::99]:5060',
      contact_address: '[2001:db8::52]:5060',
      expires: Math.floor(rows[1].e),
      registration_id: String(rows[1].id),
    });
    // Without the trailing slash too.
    const same = await h.request('GET', `${API}/${ext['100']}/registration`, bearer(acme.token));
    expect(same.json).toEqual(r.json);
  });

  it('answers registered=false with the last ended registrations, from history', async () => {
    const [liveId] = await h.liveIds(acme.realm, '101');
    await h.broker.publish([
      kazoo({ realm: acme.realm, username: '101', callId: 'pbx-101', ts: ts - 10, expires: 0 }),
    ]);
    await eventually(
      () => h.liveIds(acme.realm, '101'),
      (ids) => ids.length === 0,
      {
        what: 'the unregister',
      },
    );
    const r = await h.request('GET', `${API}/${ext['101']}/registration/`, bearer(acme.token));
    expect(r.json).toEqual({
      registered: false,
      extension_id: ext['101'],
      registrations: [
        {
          device: 'Snom 710',
          real_address: '127.0.0.1:5070',
          contact_address: '10.1.2.3:5060',
          expires: ts - 10,
          registration_id: String(liveId),
        },
      ],
    });
  });

  it('answers an expired extension from its last binding, swept or not', async () => {
    await eventually(
      () => h.request('GET', `${API}/${ext['102']}/registration/`, bearer(acme.token)),
      (r) => r.json?.registered === false,
      { what: 'the expiry' },
    );
    const r = await eventually(
      async () =>
        (await h.pool.query(`SELECT 1 FROM registration_history WHERE call_id = 'pbx-102'`))
          .rowCount,
      (n) => n === 1,
      { what: 'the sweep' },
    ).then(() => h.request('GET', `${API}/${ext['102']}/registration/`, bearer(acme.token)));
    expect(r.json.registrations).toEqual([
      expect.objectContaining({ expires: ts + 1, contact_address: '10.1.2.3:5060' }),
    ]);
  });
});

describe('GET many', () => {
  it('answers the extensions asked for, in the order asked', async () => {
    const r = await h.request(
      'GET',
      `${API}/registration/?extension_id=${ext['101']}&extension_id=${ext['100']}&extension_id=${ext['101']}`,
      bearer(acme.token),
    );
    expect(r.status).toBe(200);
    expect(
      r.json.map((x: { extension_id: number; registered: boolean }) => [
        x.extension_id,
        x.registered,
      ]),
    ).toEqual([
      [ext['101'], false],
      [ext['100'], true],
    ]);
    expect(r.json[1].registrations).toHaveLength(2);
  });

  it('without ids answers every extension of the caller, paged', async () => {
    const all = await h.request('GET', `${API}/registration/`, bearer(acme.token));
    expect(all.json.map((x: { extension_id: number }) => x.extension_id)).toEqual([
      ext['100'],
      ext['101'],
      ext['102'],
    ]);
    const page2 = await h.request(
      'GET',
      `${API}/registration?per_page=2&page=2`,
      bearer(acme.token),
    );
    expect(page2.json).toEqual([all.json[2]]);
    const theirs = await h.request('GET', `${API}/registration/`, bearer(other.token));
    expect(theirs.json.map((x: { extension_id: number }) => x.extension_id)).toEqual([ext['200']]);
  });

  it('refuses bad, unknown and foreign ids', async () => {
    const cases: [string, number, string][] = [
      [`extension_id=abc`, 400, 'bad_request'],
      [`extension_id=0`, 400, 'bad_request'],
      [`per_page=1001`, 400, 'bad_request'],
      [`extension_id=${ext['100']}&extension_id=999999999`, 404, 'not_found'],
      [`extension_id=${ext['100']}&extension_id=${ext['200']}`, 403, 'forbidden'],
    ];
    for (const [q, status, error] of cases) {
      const r = await h.request('GET', `${API}/registration/?${q}`, bearer(acme.token));
      expect([q, r.status, r.json.error]).toEqual([q, status, error]);
      expect(typeof r.json.message).toBe('string');
    }
  });
});

describe('errors and methods', () => {
  it.each([
    ['GET', `/abc/registration/`, 400, 'bad_request'],
    ['GET', `/999999999/registration/`, 404, 'not_found'],
    ['GET', `/1/registrations/`, 404, 'not_found'],
    ['PUT', `/1/registration/`, 405, 'method_not_allowed'],
    ['POST', `/1/registration`, 405, 'method_not_allowed'],
    ['DELETE', `/registration/`, 405, 'method_not_allowed'],
    ['POST', `/registration`, 405, 'method_not_allowed'],
  ])('%s %s is %d', async (method, path, status, error) => {
    const r = await h.request(method, `${API}${path}`, bearer(acme.token));
    expect(r.status).toBe(status);
    expect(r.json).toEqual({ error, message: expect.any(String) });
    if (status === 405) expect(r.headers.get('allow')).toMatch(/^GET, HEAD/);
  });

  it('takes the token only as a Bearer', async () => {
    const r = await h.request('GET', `${API}/${ext['100']}/registration/`, xAuth(acme.token));
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
    expect(r.json).toEqual({ error: 'unauthorized', message: expect.any(String) });
  });
});

describe('DELETE', () => {
  it('flushes the extension, ends its bindings, then answers them from history', async () => {
    const ids = await h.liveIds(acme.realm, '100');
    expect(ids).toHaveLength(2);
    const from = h.commands.length;
    const r = await h.request('DELETE', `${API}/${ext['100']}/registration/`, bearer(acme.token));
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    const cmds = await eventually(
      async () => h.commandsFor(acme.realm, from),
      (c) => c.length >= 1,
      { what: 'the reg_flush' },
    );
    expect(
      cmds.map((c) => [c.routingKey, c.json?.['Event-Name'], c.json?.Realm, c.json?.Username]),
    ).toEqual([
      [`registration.flush.${acme.realm.replace(/\./g, '%2E')}`, 'reg_flush', acme.realm, '100'],
    ]);
    expect(await h.liveIds(acme.realm, '100')).toEqual([]);
    const after = await h.request('GET', `${API}/${ext['100']}/registration/`, bearer(acme.token));
    expect(after.json.registered).toBe(false);
    expect(
      after.json.registrations
        .map((x: { registration_id: string }) => Number(x.registration_id))
        .sort((a: number, b: number) => a - b),
    ).toEqual([...ids].sort((a, b) => a - b));
    const { rows } = await h.pool.query(
      `SELECT DISTINCT end_reason FROM registration_history WHERE registration_id = ANY($1::bigint[])`,
      [ids],
    );
    expect(rows).toEqual([{ end_reason: 'flushed' }]);
    // Again: nothing live, nothing published, still 204.
    const again = await h.request(
      'DELETE',
      `${API}/${ext['100']}/registration`,
      bearer(acme.token),
    );
    expect(again.status).toBe(204);
  });

  it('refuses a foreign extension and publishes nothing', async () => {
    const from = h.commands.length;
    const r = await h.request('DELETE', `${API}/${ext['200']}/registration/`, bearer(acme.token));
    expect([r.status, r.json.error]).toEqual([403, 'forbidden']);
    await new Promise((res) => setTimeout(res, 300));
    expect(h.commandsFor(other.realm, from)).toEqual([]);
    expect(await h.liveIds(other.realm)).toHaveLength(1);
  });
});
