// sipXcom's /sipxconfig/api/registrations over real HTTP, Postgres and RabbitMQ: JSON and XML
// bodies field by field, every filter (user, MAC in three spellings, IPv4/IPv6 contact and
// source addresses, Call-ID, server), paging, 405s, and DELETE publishing the flushes.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { freeswitch, kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { basic, DialectHarness, Reply, TestAccount, xAuth } from './dialect-harness';

let h: DialectHarness;
let parent: TestAccount;
let acme: TestAccount;
let foreign: TestAccount;
let admin: TestAccount;

const BASE = '/sipxconfig/api/registrations';
const MAC = '001565a1b2c3';
const ts = nowS();

/** The bindings, by label, as the tests refer to them. */
const B = {
  phone1: {
    user: '1001',
    contact:
      '<sip:1001@192.0.2.10:5060>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-001565A1B2C3>"',
    callId: 'c1001-a@h8',
  },
  phone1b: { user: '1001', contact: '<sip:1001@192.0.2.11:5060>', callId: 'c1001-b@h8' },
  phone2: {
    user: '1002',
    contact: '<sip:1002@[2001:db8::10]:5062;transport=tcp>',
    callId: 'c1002@h8',
  },
  parent1: { user: '2001', contact: '<sip:2001@192.0.2.20:5060>', callId: 'c2001@h8' },
  foreign1: {
    user: '3001',
    contact:
      '<sip:3001@192.0.2.30:5060>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-001565a1b2c3>"',
    callId: 'c3001@h8',
  },
};

const xml = (r: Reply) => {
  expect(XMLValidator.validate(r.text)).toBe(true);
  const doc = new XMLParser({ parseTagValue: false }).parse(r.text);
  const list = doc.Registrations?.Registration ?? [];
  return (Array.isArray(list) ? list : [list]) as Record<string, string>[];
};
const identities = (r: Reply) =>
  (r.json.registrations as { identity: string; contact: string }[])
    .map((x) => `${x.identity} ${x.contact.replace(/;\+sip.*/, '')}`)
    .sort();

beforeAll(async () => {
  h = await DialectHarness.start('sipx');
  parent = await h.account('parent');
  acme = await h.account('acme', { parentId: parent.id });
  foreign = await h.account('foreign');
  admin = await h.account('admin', { isSuperadmin: true });
  await h.broker.publish([
    kazoo({
      realm: acme.realm,
      username: B.phone1.user,
      contact: B.phone1.contact,
      callId: B.phone1.callId,
      ts,
      userAgent: 'Yealink SIP-T46G 66.86.0.15',
      extra: {
        'Source-IP': '198.51.100.7',
        'Source-Port': '40001',
        'Proxy-IP': '10.0.0.1',
        'Proxy-Path': 'sip:10.0.0.1:5060;transport=udp',
        'Registrar-Node': 'kamailio@px1.sipx.h8.test',
      },
    }),
    kazoo({
      realm: acme.realm,
      username: B.phone1b.user,
      contact: B.phone1b.contact,
      callId: B.phone1b.callId,
      ts,
      extra: {
        'Source-IP': '198.51.100.7',
        'Source-Port': '40002',
        'Proxy-IP': '10.0.0.2',
        'Proxy-Path': 'sip:10.0.0.2:5060;transport=udp',
        'Registrar-Node': 'kamailio@px2.sipx.h8.test',
      },
    }),
    kazoo({
      realm: acme.realm,
      username: B.phone2.user,
      contact: B.phone2.contact,
      callId: B.phone2.callId,
      ts,
      userAgent: 'Yealink SIP-T46G 66.86.0.15 00:15:65:d4:e5:f6',
      extra: {
        'Source-IP': '2001:DB8:0:0::20',
        'Source-Port': '5062',
        'Proxy-IP': '10.0.0.2',
        'Proxy-Path': 'sip:[2001:db8::2]:5060;transport=tcp',
        'Registrar-Node': 'kamailio@px2.sipx.h8.test',
      },
    }),
    kazoo({
      realm: parent.realm,
      username: B.parent1.user,
      contact: B.parent1.contact,
      callId: B.parent1.callId,
      ts,
      extra: { 'Proxy-IP': '10.0.0.1', 'Registrar-Node': 'kamailio@px1.sipx.h8.test' },
    }),
    kazoo({
      realm: foreign.realm,
      username: B.foreign1.user,
      contact: B.foreign1.contact,
      callId: B.foreign1.callId,
      ts,
      extra: { 'Source-IP': '198.51.100.7', 'Proxy-IP': '10.0.0.1' },
    }),
    freeswitch({
      subclass: 'sofia::register',
      realm: acme.realm,
      username: '1003',
      contact: `"1003" <sip:1003@192.168.1.50:5062;transport=udp>`,
      callId: 'fs-1003@h8',
      us: ts * 1e6,
    }),
  ]);
  await eventually(
    async () => [
      ...(await h.liveIds(acme.realm)),
      ...(await h.liveIds(parent.realm)),
      ...(await h.liveIds(foreign.realm)),
    ],
    (ids) => ids.length === 6,
    { what: 'the six bindings' },
  );
});

afterAll(async () => {
  await h?.stop();
});

describe('GET /registrations', () => {
  it('lists the caller’s bindings as JSON, every field as sipXcom names it', async () => {
    const r = await h.request('GET', BASE, basic(acme.apiKey));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(Object.keys(r.json)).toEqual(['registrations']);
    expect(identities(r)).toEqual([
      `1001@${acme.realm} <sip:1001@192.0.2.10:5060>`,
      `1001@${acme.realm} <sip:1001@192.0.2.11:5060>`,
      `1002@${acme.realm} <sip:1002@[2001:db8::10]:5062;transport=tcp>`,
      `1003@${acme.realm} "1003" <sip:1003@192.168.1.50:5062;transport=udp>`,
    ]);
    const { rows } = await h.pool.query(
      `SELECT extract(epoch from expires_at)::float8 AS e FROM registrations WHERE call_id = $1`,
      [B.phone1.callId],
    );
    const phone1 = r.json.registrations.find(
      (x: { regCallId: string }) => x.regCallId === B.phone1.callId,
    );
    expect(phone1).toEqual({
      contact: B.phone1.contact,
      expires: Math.floor(rows[0].e),
      identity: `1001@${acme.realm}`,
      instrument: MAC,
      primary: '10.0.0.1',
      regCallId: B.phone1.callId,
      uri: `sip:1001@${acme.realm}`,
      secondsToExpire: expect.any(Number),
      status: 'active',
    });
    expect(Math.abs(phone1.secondsToExpire - (rows[0].e - Date.now() / 1000))).toBeLessThan(3);
    expect(phone1.secondsToExpire).toBeGreaterThan(500);
    const fs = r.json.registrations.find(
      (x: { regCallId: string }) => x.regCallId === 'fs-1003@h8',
    );
    expect(fs).toMatchObject({ instrument: '', primary: '10.0.0.10', status: 'active' });
  });

  it.each(['application/xml', 'text/xml'])(
    'answers XML for Accept: %s, parsing back to the same values',
    async (accept) => {
      const json = await h.request('GET', BASE, basic(acme.apiKey));
      const r = await h.request('GET', BASE, { ...basic(acme.apiKey), accept });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toMatch(new RegExp(`^${accept}`));
      expect(r.text.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
      const items = xml(r);
      expect(items).toHaveLength(4);
      for (const item of items) {
        expect(Object.keys(item)).toEqual([
          'contact',
          'expires',
          'identity',
          'instrument',
          'primary',
          'regCallId',
          'uri',
          'secondsToExpire',
          'status',
        ]);
        const same = json.json.registrations.find(
          (x: { regCallId: string }) => x.regCallId === item.regCallId,
        );
        expect({ ...item, secondsToExpire: undefined }).toEqual({
          contact: same.contact,
          expires: String(same.expires),
          identity: same.identity,
          instrument: same.instrument,
          primary: same.primary,
          regCallId: same.regCallId,
          uri: same.uri,
          secondsToExpire: undefined,
          status: 'active',
        });
        expect(Math.abs(Number(item.secondsToExpire) - same.secondsToExpire)).toBeLessThanOrEqual(
          2,
        );
      }
      // The markup in the contacts travelled escaped.
      expect(r.text).toContain(
        '&lt;sip:1001@192.0.2.10:5060&gt;;+sip.instance=&quot;&lt;urn:uuid:',
      );
    },
  );

  // sipXconfig RegistrationApiImpl.getRegistrations: paged only when start and limit are both
  // given; RegistrationContextImpl.getRegistrations(start, count): sort expirationTime -1,
  // skip start, limit count (MongoDB: limit 0 is no limit).
  it('pages with start and limit together, newest expiry first; one alone gives every row', async () => {
    const all = (await h.request('GET', BASE, basic(acme.apiKey))).json.registrations;
    const byExpiry = (await h.request('GET', `${BASE}?start=0&limit=0`, basic(acme.apiKey))).json
      .registrations as { expires: number }[];
    expect(byExpiry).toHaveLength(all.length);
    for (let i = 1; i < byExpiry.length; i++)
      expect(byExpiry[i - 1].expires).toBeGreaterThanOrEqual(byExpiry[i].expires);
    const page = await h.request('GET', `${BASE}?start=1&limit=2`, basic(acme.apiKey));
    expect(page.json.registrations).toEqual(
      byExpiry.slice(1, 3).map((x: object) => ({ ...x, secondsToExpire: expect.any(Number) })),
    );
    const past = await h.request('GET', `${BASE}?start=10&limit=5`, basic(acme.apiKey));
    expect(past.json).toEqual({ registrations: [] });
    for (const alone of ['start=10', 'limit=1']) {
      const r = await h.request('GET', `${BASE}?${alone}`, basic(acme.apiKey));
      expect([alone, r.json.registrations.length]).toEqual([alone, all.length]);
    }
    for (const bad of ['start=-1&limit=1', 'limit=x', 'start=1&start=2']) {
      const r = await h.request('GET', `${BASE}?${bad}`, basic(acme.apiKey));
      expect([bad, r.status, r.json.error]).toEqual([bad, 400, 'bad_request']);
    }
  });

  it('sees the subtree for a parent, everything for a super-admin', async () => {
    const p = await h.request('GET', BASE, xAuth(parent.token));
    expect(identities(p).map((s) => s.split(' ')[0])).toEqual([
      `1001@${acme.realm}`,
      `1001@${acme.realm}`,
      `1002@${acme.realm}`,
      `1003@${acme.realm}`,
      `2001@${parent.realm}`,
    ]);
    const f = await h.request('GET', BASE, basic(foreign.apiKey));
    expect(identities(f).map((s) => s.split(' ')[0])).toEqual([`3001@${foreign.realm}`]);
    const s = await h.request('GET', BASE, basic(admin.apiKey));
    const mine = identities(s).filter((x) => x.includes('.sipx.h8.test'));
    expect(mine).toHaveLength(6);
  });
});

describe('filters', () => {
  const get = async (path: string, who = acme) => {
    const r = await h.request('GET', `${BASE}/${path}`, basic(who.apiKey));
    expect([path, r.status]).toEqual([path, 200]);
    return (r.json.registrations as { regCallId: string }[]).map((x) => x.regCallId).sort();
  };

  it('by user: user name, user@realm or extension id; 404 for an unknown user', async () => {
    const { rows } = await h.pool.query(
      `SELECT id FROM extensions WHERE realm_key = $1 AND username_key = '1001'`,
      [acme.realm],
    );
    const both = [B.phone1.callId, B.phone1b.callId].sort();
    expect(await get('user/1001')).toEqual(both);
    expect(await get(`user/1001@${acme.realm.toUpperCase()}`)).toEqual(both);
    expect(await get(`user/${rows[0].id}`)).toEqual(both);
    expect(await get('user/1002?start=0&limit=1')).toEqual([B.phone2.callId]);
    for (const path of ['user/9999', 'user/nobody', `user/3001`]) {
      const r = await h.request('GET', `${BASE}/${path}`, basic(acme.apiKey));
      expect([path, r.status, r.json]).toEqual([
        path,
        404,
        { error: 'not_found', message: expect.stringContaining('no user') },
      ]);
    }
  });

  it('by MAC in any spelling, from the instance id or the User-Agent, in scope only', async () => {
    for (const spelling of ['001565A1B2C3', '00:15:65:a1:b2:c3', '00-15-65-A1-B2-C3'])
      expect(await get(`serialNo/${encodeURIComponent(spelling)}`)).toEqual([B.phone1.callId]);
    expect(await get('serialNo/00:15:65:D4:E5:F6')).toEqual([B.phone2.callId]);
    // A super-admin sees every account: other test files' phones may share this MAC, so only
    // this file's bindings are compared (both accounts' phones with the MAC, none without it).
    const ours = new Set(Object.values(B).map((b) => b.callId));
    expect((await get(`serialNo/${MAC}`, admin)).filter((id) => ours.has(id))).toEqual(
      [B.foreign1.callId, B.phone1.callId].sort(),
    );
    // RegistrationApiImpl.getRegistrationsByMac: a phone sipXconfig does not know is a 404.
    const unknown = await h.request('GET', `${BASE}/serialNo/0015650000ff`, basic(acme.apiKey));
    expect([unknown.status, unknown.json]).toEqual([
      404,
      { error: 'not_found', message: 'Phone not found' },
    ]);
    const bad = await h.request('GET', `${BASE}/serialNo/not-a-mac`, basic(acme.apiKey));
    expect([bad.status, bad.json.error]).toEqual([400, 'bad_request']);
  });

  it('by IP: the contact or the source address, IPv6 in any spelling', async () => {
    expect(await get('ip/198.51.100.7')).toEqual([B.phone1.callId, B.phone1b.callId].sort());
    expect(await get('ip/198.51.100.7', admin)).toEqual(
      [B.phone1.callId, B.phone1b.callId, B.foreign1.callId].sort(),
    );
    expect(await get('ip/192.0.2.10')).toEqual([B.phone1.callId]);
    expect(await get('ip/2001:db8::10')).toEqual([B.phone2.callId]);
    expect(await get(`ip/${encodeURIComponent('[2001:DB8:0::10]')}`)).toEqual([B.phone2.callId]);
    expect(await get('ip/2001:db8::20')).toEqual([B.phone2.callId]);
    expect(await get('ip/2001:0db8:0000:0000:0000:0000:0000:0020')).toEqual([B.phone2.callId]);
    expect(await get('ip/192.168.1.50')).toEqual(['fs-1003@h8']);
    expect(await get('ip/203.0.113.7')).toEqual(['fs-1003@h8']);
    expect(await get('ip/192.0.2.30')).toEqual([]);
    const bad = await h.request('GET', `${BASE}/ip/c1001-a@h8`, basic(acme.apiKey));
    expect([bad.status, bad.json.error]).toEqual([400, 'bad_request']);
  });

  it('by Call-ID, on /callId and /callid', async () => {
    expect(await get(`callId/${encodeURIComponent(B.phone1.callId)}`)).toEqual([B.phone1.callId]);
    expect(await get(`callid/${encodeURIComponent(B.phone2.callId)}`)).toEqual([B.phone2.callId]);
    expect(await get(`callid/${encodeURIComponent(B.foreign1.callId)}`)).toEqual([]);
  });

  it('by server: proxy address, proxy path host, node name or host', async () => {
    expect(await get('server/10.0.0.2')).toEqual([B.phone1b.callId, B.phone2.callId].sort());
    expect(await get('server/2001:db8::2')).toEqual([B.phone2.callId]);
    expect(await get('server/PX1.sipx.h8.test')).toEqual([B.phone1.callId]);
    expect(await get('server/kamailio@px1.sipx.h8.test')).toEqual([B.phone1.callId]);
    expect(await get('server/px1.sipx.h8.test', parent)).toEqual(
      [B.parent1.callId, B.phone1.callId].sort(),
    );
    expect(await get('server/fs1.example.net')).toEqual(['fs-1003@h8']);
    expect(await get('server/10.0.0.10?start=0&limit=10')).toEqual(['fs-1003@h8']);
    // RegistrationApiImpl.getRegistrationsByServer: an unknown location is a 404.
    const unknown = await h.request('GET', `${BASE}/server/10.9.9.9`, basic(acme.apiKey));
    expect([unknown.status, unknown.json]).toEqual([
      404,
      { error: 'not_found', message: 'Server not found' },
    ]);
  });
});

describe('methods and paths', () => {
  it.each([
    ['PUT', BASE, 'GET, HEAD'],
    ['POST', BASE, 'GET, HEAD'],
    ['DELETE', BASE, 'GET, HEAD'],
    ['PUT', `${BASE}/user/1001`, 'GET, HEAD, DELETE'],
    ['POST', `${BASE}/serialNo/${MAC}`, 'GET, HEAD, DELETE'],
    ['POST', `${BASE}/ip/10.0.0.1`, 'GET, HEAD, DELETE'],
    ['PUT', `${BASE}/callId/x`, 'GET, HEAD, DELETE'],
    ['PUT', `${BASE}/callid/x`, 'GET, HEAD, DELETE'],
    ['POST', `${BASE}/server/x`, 'GET, HEAD, DELETE'],
  ])('%s %s is 405', async (method, path, allow) => {
    const r = await h.request(method, path, basic(acme.apiKey));
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe(allow);
    expect(r.json).toEqual({
      error: 'method_not_allowed',
      message: `${method} is not allowed here`,
    });
  });

  it('answers unknown paths with a JSON 404', async () => {
    const r = await h.request('GET', `${BASE}/mac/${MAC}`, basic(acme.apiKey));
    expect(r.status).toBe(404);
    expect(r.json).toEqual({ error: 'not_found', message: `no resource ${BASE}/mac/${MAC}` });
  });
});

// sipXconfig's RegistrationApiImpl.dropRegistrationsBy*: Response.ok().build() (200, no body);
// dropRegistrationsByUser drops the user's registrations, the others only the matching ones.
const stopped = (r: Reply) => [r.status, r.text, r.headers.get('x-registrations-stopped')];
const ONE_CONTACT = /^299 - ".*whole AOR"$/;

describe('DELETE', () => {
  it('by MAC: flushes that contact only (reg_flush names its Call-ID and Contact)', async () => {
    const from = h.commands.length;
    const r = await h.request('DELETE', `${BASE}/serialNo/00-15-65-A1-B2-C3`, basic(acme.apiKey));
    expect(stopped(r)).toEqual([200, '', '1']);
    expect(r.headers.get('warning')).toMatch(ONE_CONTACT);
    const cmds = await eventually(
      async () => h.commandsFor(acme.realm, from),
      (c) => c.length >= 1,
      { what: 'the reg_flush' },
    );
    expect(cmds).toHaveLength(1);
    expect(cmds[0]).toMatchObject({
      exchange: 'registrar',
      routingKey: `registration.flush.${acme.realm.replace(/\./g, '%2E')}`,
    });
    expect(cmds[0].json).toMatchObject({
      'Event-Name': 'reg_flush',
      Realm: acme.realm,
      Username: '1001',
      'Call-ID': B.phone1.callId,
      Contact: 'sip:1001@192.0.2.10:5060',
    });
    // The user's other phone stays registered.
    const live = await h.request('GET', `${BASE}/user/1001`, basic(acme.apiKey));
    expect(live.json.registrations.map((x: { regCallId: string }) => x.regCallId)).toEqual([
      B.phone1b.callId,
    ]);
    const { rows } = await h.pool.query(
      `SELECT call_id, end_reason FROM registration_history WHERE realm_key = $1 AND username_key = '1001' ORDER BY call_id`,
      [acme.realm],
    );
    expect(rows).toEqual([{ call_id: B.phone1.callId, end_reason: 'flushed' }]);
    expect(await h.liveIds(foreign.realm)).toHaveLength(1);
    expect(h.commandsFor(foreign.realm, from)).toEqual([]);
  });

  it('by IP: a FreeSWITCH binding gets flush_inbound_reg with its Call-ID', async () => {
    const from = h.commands.length;
    const r = await h.request('DELETE', `${BASE}/ip/192.168.1.50`, {
      ...basic(acme.apiKey),
      accept: 'text/xml',
    });
    expect(stopped(r)).toEqual([200, '', '1']);
    const cmds = await eventually(
      async () => h.commands.slice(from),
      (c) => c.length >= 1,
      { what: 'the FreeSWITCH flush' },
    );
    expect(cmds).toEqual([
      {
        exchange: 'TAP.Commands',
        routingKey: 'commandBindingKey',
        text: `sofia profile internal flush_inbound_reg fs-1003@h8`,
        json: undefined,
      },
    ]);
    expect(await h.liveIds(acme.realm, '1003')).toEqual([]);
  });

  it('by Call-ID and server one contact each, by user the whole AOR; out of scope nothing', async () => {
    const from = h.commands.length;
    const none = await h.request(
      'DELETE',
      `${BASE}/callid/${encodeURIComponent(B.parent1.callId)}`,
      basic(acme.apiKey),
    );
    expect(stopped(none)).toEqual([200, '', '0']);
    const unknown = await h.request('DELETE', `${BASE}/user/3001`, basic(acme.apiKey));
    expect(unknown.status).toBe(404);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.commandsFor(parent.realm, from)).toEqual([]);
    expect(h.commandsFor(foreign.realm, from)).toEqual([]);
    expect(await h.liveIds(parent.realm)).toHaveLength(1);

    const byServer = await h.request(
      'DELETE',
      `${BASE}/server/px1.sipx.h8.test`,
      xAuth(parent.token),
    );
    expect(stopped(byServer)).toEqual([200, '', '1']);
    const byCallId = await h.request(
      'DELETE',
      `${BASE}/callId/${encodeURIComponent(B.phone2.callId)}`,
      basic(acme.apiKey),
    );
    expect(stopped(byCallId)).toEqual([200, '', '1']);
    const cmds = await eventually(
      async () => [...h.commandsFor(parent.realm, from), ...h.commandsFor(acme.realm, from)],
      (c) => c.length >= 2,
      { what: 'two reg_flush' },
    );
    expect(cmds.map((c) => [c.json?.Realm, c.json?.Username, c.json?.['Call-ID']])).toEqual([
      [parent.realm, '2001', B.parent1.callId],
      [acme.realm, '1002', B.phone2.callId],
    ]);
    expect(await h.liveIds(parent.realm)).toEqual([]);

    // By user: every phone of the AOR, with a reg_flush naming the AOR only.
    const fromUser = h.commands.length;
    const byUser = await h.request('DELETE', `${BASE}/user/1001`, basic(acme.apiKey));
    expect(stopped(byUser)).toEqual([200, '', '1']);
    expect(byUser.headers.get('warning')).toBeNull();
    const userCmds = await eventually(
      async () => h.commandsFor(acme.realm, fromUser),
      (c) => c.length >= 1,
      { what: 'the per-user reg_flush' },
    );
    expect(userCmds[0].json).toMatchObject({ Realm: acme.realm, Username: '1001' });
    expect(userCmds[0].json).not.toHaveProperty('Call-ID');
    expect(await h.liveIds(acme.realm)).toEqual([]);

    // A user without live bindings: 200 and nothing to stop.
    const idle = await h.request('DELETE', `${BASE}/user/1001`, basic(acme.apiKey));
    expect(stopped(idle)).toEqual([200, '', '0']);
  });
});
