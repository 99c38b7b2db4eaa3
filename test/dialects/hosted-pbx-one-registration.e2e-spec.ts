// The hosted-PBX vendor's later DELETE /api/ver1.0/extension/{id}/registration/{registration_id}
// (issue 15 point 4): registration_id stays the same across refreshes; deleting one flushes only
// that phone (Kamailio: a reg_flush naming its Call-ID and Contact; FreeSWITCH: flush_inbound_reg
// <call-id>, checked on the bus as mod_amqp would receive it) and the other phone stays.
import { freeswitch, kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { bearer, DialectHarness, TestAccount } from './dialect-harness';

let h: DialectHarness;
let acme: TestAccount;
let other: TestAccount;
let ext300: number;
let ext400: number;
let ext900: number;
const ts = nowS();
const API = '/api/ver1.0/extension';

interface Item {
  registration_id: string;
  contact_address: string;
  expires: number;
}

const desk = (over: { ts: number; first?: boolean }) =>
  kazoo({
    realm: acme.realm,
    username: '300',
    contact: '<sip:300@192.168.5.30:5062>',
    callId: 'one-300-desk',
    userAgent: 'Yealink SIP-T46G 28.72.14.5',
    ...over,
  });

async function extensionId(realm: string, username: string): Promise<number> {
  const { rows } = await h.pool.query(
    `SELECT id FROM extensions WHERE realm_key = $1 AND username_key = $2`,
    [realm, username],
  );
  return rows[0].id as number;
}

async function items(id: number): Promise<{ registered: boolean; registrations: Item[] }> {
  const r = await h.request('GET', `${API}/${id}/registration/`, bearer(acme.token));
  expect(r.status).toBe(200);
  return r.json;
}

const byContact = (list: Item[]) =>
  Object.fromEntries(list.map((i) => [i.contact_address, i.registration_id]));

beforeAll(async () => {
  h = await DialectHarness.start('pbx1');
  acme = await h.account('acme');
  other = await h.account('other');
  await h.broker.publish([
    desk({ ts }),
    kazoo({
      realm: acme.realm,
      username: '300',
      contact: '<sip:300@192.168.5.31:5060>',
      callId: 'one-300-soft',
      ts,
      userAgent: 'Zoiper 5',
    }),
    freeswitch({
      subclass: 'sofia::register',
      realm: acme.realm,
      username: '400',
      callId: 'one-400-a@192.168.1.40',
      contact: '"400" <sip:400@192.168.1.40:5062;transport=udp>',
      us: ts * 1e6,
    }),
    freeswitch({
      subclass: 'sofia::register',
      realm: acme.realm,
      username: '400',
      callId: 'one-400-b@192.168.1.41',
      contact: '"400" <sip:400@192.168.1.41:5062;transport=udp>',
      us: ts * 1e6,
    }),
    kazoo({ realm: other.realm, username: '900', callId: 'one-900', ts }),
  ]);
  await eventually(
    async () => (await h.liveIds(acme.realm)).length + (await h.liveIds(other.realm)).length,
    (n) => n === 5,
    { what: 'the five bindings' },
  );
  ext300 = await extensionId(acme.realm, '300');
  ext400 = await extensionId(acme.realm, '400');
  ext900 = await extensionId(other.realm, '900');
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('registration_id', () => {
  it('stays the same when the phone refreshes its registration', async () => {
    const before = await items(ext300);
    const ids = byContact(before.registrations);
    expect(Object.keys(ids).sort()).toEqual(['192.168.5.30:5062', '192.168.5.31:5060']);
    const expiresBefore = before.registrations.find(
      (i) => i.contact_address === '192.168.5.30:5062',
    )!.expires;
    await h.broker.publish([desk({ ts: ts + 7, first: false })]);
    const after = await eventually(
      () => items(ext300),
      (s) =>
        s.registrations.some(
          (i) => i.contact_address === '192.168.5.30:5062' && i.expires === expiresBefore + 7,
        ),
      { what: 'the refresh' },
    );
    expect(byContact(after.registrations)).toEqual(ids);
  });
});

describe('DELETE …/registration/{registration_id}', () => {
  it('flushes only that phone of a Kamailio AOR; the other stays', async () => {
    const ids = byContact((await items(ext300)).registrations);
    const from = h.commands.length;
    const r = await h.request(
      'DELETE',
      `${API}/${ext300}/registration/${ids['192.168.5.30:5062']}/`,
      bearer(acme.token),
    );
    expect([r.status, r.text]).toEqual([204, '']);
    const cmds = await eventually(
      async () => h.commandsFor(acme.realm, from),
      (c) => c.length >= 1,
      { what: 'the reg_flush' },
    );
    expect(cmds).toHaveLength(1);
    expect(cmds[0].json).toMatchObject({
      'Event-Name': 'reg_flush',
      Realm: acme.realm,
      Username: '300',
      'Call-ID': 'one-300-desk',
      Contact: 'sip:300@192.168.5.30:5062',
    });
    const left = await items(ext300);
    expect(left.registered).toBe(true);
    expect(byContact(left.registrations)).toEqual({
      '192.168.5.31:5060': ids['192.168.5.31:5060'],
    });
    const { rows } = await h.pool.query(
      `SELECT call_id, end_reason FROM registration_history WHERE registration_id = $1`,
      [Number(ids['192.168.5.30:5062'])],
    );
    expect(rows).toEqual([{ call_id: 'one-300-desk', end_reason: 'flushed' }]);

    // Gone now: a second DELETE is a 404.
    const again = await h.request(
      'DELETE',
      `${API}/${ext300}/registration/${ids['192.168.5.30:5062']}`,
      bearer(acme.token),
    );
    expect([again.status, again.json.error]).toEqual([404, 'not_found']);
  });

  it('sends FreeSWITCH flush_inbound_reg with the Call-ID of that registration', async () => {
    const ids = byContact((await items(ext400)).registrations);
    const from = h.commands.length;
    const r = await h.request(
      'DELETE',
      `${API}/${ext400}/registration/${ids['192.168.1.40:5062']}`,
      bearer(acme.token),
    );
    expect(r.status).toBe(204);
    const cmds = await eventually(
      async () => h.commands.slice(from),
      (c) => c.length >= 1,
      { what: 'the FreeSWITCH command' },
    );
    expect(cmds).toEqual([
      {
        exchange: 'TAP.Commands',
        routingKey: 'commandBindingKey',
        text: 'sofia profile internal flush_inbound_reg one-400-a@192.168.1.40',
        json: undefined,
      },
    ]);
    expect(Object.keys(byContact((await items(ext400)).registrations))).toEqual([
      '192.168.1.41:5062',
    ]);
  });

  it('refuses what is not a live registration of that extension, bad ids and other methods', async () => {
    const soft = byContact((await items(ext300)).registrations)['192.168.5.31:5060'];
    const from = h.commands.length;
    // Another extension's registration, an unknown one.
    for (const path of [`${ext400}/registration/${soft}`, `${ext300}/registration/999999999`]) {
      const r = await h.request('DELETE', `${API}/${path}`, bearer(acme.token));
      expect([path, r.status, r.json.error]).toEqual([path, 404, 'not_found']);
    }
    const bad = await h.request('DELETE', `${API}/${ext300}/registration/x1`, bearer(acme.token));
    expect([bad.status, bad.json.error]).toEqual([400, 'bad_request']);
    const foreign = await h.request(
      'DELETE',
      `${API}/${ext900}/registration/${soft}`,
      bearer(acme.token),
    );
    expect([foreign.status, foreign.json.error]).toEqual([403, 'forbidden']);
    const get = await h.request('GET', `${API}/${ext300}/registration/${soft}`, bearer(acme.token));
    expect([get.status, get.headers.get('allow')]).toEqual([405, 'DELETE']);
    const anon = await h.request('DELETE', `${API}/${ext300}/registration/${soft}`);
    expect(anon.status).toBe(401);
    expect(h.commands.slice(from)).toEqual([]);
    expect((await items(ext300)).registrations).toHaveLength(1);
  });
});
