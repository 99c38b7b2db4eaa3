// sipXcom's answers as sipXconfig gives them (issue 15 point 3), each citing the source:
// sipXconfig/neoconf/src/org/sipfoundry/sipxconfig/api/impl/RegistrationApiImpl.java,
// …/registrar/RegistrationContextImpl.java and the jaxrs-server.xml extension mappings.
import { XMLParser } from 'fast-xml-parser';
import { kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { basic, DialectHarness, TestAccount } from './dialect-harness';
import { rawRequest } from './digest-client';

let h: DialectHarness;
let acme: TestAccount;
const BASE = '/sipxconfig/api/registrations';
const MAC_GONE = '0004f2aabb01';
const ts = nowS();

beforeAll(async () => {
  h = await DialectHarness.start('sxa', undefined, {
    SIPXCOM_LOCATIONS: '1=px1.sxa.h8.test, 2=10.77.0.2',
  });
  acme = await h.account('acme');
  const common = { realm: acme.realm, ts };
  await h.broker.publish([
    kazoo({
      ...common,
      username: '501',
      callId: 'sxa-501@h8',
      contact: '<sip:501@192.0.2.51:5060>',
      expires: 300,
      extra: { 'Proxy-IP': '10.77.0.1', 'Registrar-Node': 'kamailio@px1.sxa.h8.test' },
    }),
    kazoo({
      ...common,
      username: '502',
      callId: 'sxa-502@h8',
      contact: '<sip:502@192.0.2.52:5060>',
      extra: { 'Proxy-IP': '10.77.0.2', 'Registrar-Node': 'kamailio@px2.sxa.h8.test' },
    }),
    // A phone that registered and unregistered: known to sipXcom, nothing registered.
    kazoo({
      ...common,
      username: '503',
      callId: 'sxa-503@h8',
      contact: `<sip:503@192.0.2.53:5060>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-${MAC_GONE}>"`,
      extra: { 'Proxy-IP': '10.77.0.3' },
    }),
    kazoo({
      ...common,
      ts: ts + 1,
      username: '503',
      callId: 'sxa-503@h8',
      contact: `<sip:503@192.0.2.53:5060>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-${MAC_GONE}>"`,
      expires: 0,
      first: false,
      extra: { 'Proxy-IP': '10.77.0.3' },
    }),
  ]);
  await eventually(
    async () => (await h.liveIds(acme.realm)).length,
    (n) => n === 2,
    { what: 'two live bindings' },
  );
  await eventually(
    async () =>
      (
        await h.pool.query(
          `SELECT 1 FROM registrations WHERE realm_key = $1 AND username_key = '503' AND ended_at IS NOT NULL`,
          [acme.realm],
        )
      ).rowCount,
    (n) => n === 1,
    { what: 'the unregistered 503' },
  );
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

const callIds = (body: { registrations: { regCallId: string }[] }) =>
  body.registrations.map((r) => r.regCallId).sort();

describe('unknown phone and server (RegistrationApiImpl: 404 when the lookup is null)', () => {
  it('answers 200 and nothing for a known phone with nothing registered, 404 for an unknown one', async () => {
    const known = await h.request('GET', `${BASE}/serialNo/${MAC_GONE}`, basic(acme.apiKey));
    expect([known.status, known.json]).toEqual([200, { registrations: [] }]);
    for (const method of ['GET', 'DELETE']) {
      const r = await h.request(method, `${BASE}/serialNo/0004f2aabb99`, basic(acme.apiKey));
      expect([method, r.status, r.json]).toEqual([
        method,
        404,
        { error: 'not_found', message: 'Phone not found' },
      ]);
    }
  });

  it('finds servers by location id, FQDN or address; 404 Server not found otherwise', async () => {
    const get = async (id: string) =>
      callIds((await h.request('GET', `${BASE}/server/${id}`, basic(acme.apiKey))).json);
    expect(await get('1')).toEqual(['sxa-501@h8']);
    expect(await get('px1.sxa.h8.test')).toEqual(['sxa-501@h8']);
    expect(await get('2')).toEqual(['sxa-502@h8']);
    expect(await get('10.77.0.2')).toEqual(['sxa-502@h8']);
    // Known (it held 503) but nothing registered there now.
    expect(await get('10.77.0.3')).toEqual([]);
    for (const id of ['3', '10.77.0.99', 'px9.sxa.h8.test']) {
      const r = await h.request('DELETE', `${BASE}/server/${id}`, basic(acme.apiKey));
      expect([id, r.status, r.json]).toEqual([
        id,
        404,
        { error: 'not_found', message: 'Server not found' },
      ]);
    }
  });
});

describe('.json and .xml suffixes (jaxrs-server.xml extensionMappings)', () => {
  it('answers XML for .xml and JSON for .json, whatever Accept says', async () => {
    const x = await h.request('GET', `${BASE}.xml`, {
      ...basic(acme.apiKey),
      accept: 'application/json',
    });
    expect(x.status).toBe(200);
    expect(x.headers.get('content-type')).toMatch(/^application\/xml/);
    const doc = new XMLParser({ parseTagValue: false }).parse(x.text);
    expect(
      (doc.Registrations.Registration as { regCallId: string }[]).map((r) => r.regCallId).sort(),
    ).toEqual(['sxa-501@h8', 'sxa-502@h8']);
    const j = await h.request('GET', `${BASE}/user/501.json?start=0&limit=5`, {
      ...basic(acme.apiKey),
      accept: 'application/xml',
    });
    expect([j.status, callIds(j.json)]).toEqual([200, ['sxa-501@h8']]);
    const none = await rawRequest(
      h.url,
      'GET',
      `${BASE}/serialNo/${MAC_GONE}.xml`,
      basic(acme.apiKey),
    );
    expect(none.text).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Registrations/>');
  });
});

describe('paging (RegistrationContextImpl: sort expirationTime -1, skip, limit)', () => {
  it('puts the latest expiry first when start and limit are given', async () => {
    // 502 (600 s) registered after 501 (300 s) but expires later: first.
    const page = await h.request('GET', `${BASE}?start=0&limit=2`, basic(acme.apiKey));
    expect(page.json.registrations.map((r: { regCallId: string }) => r.regCallId)).toEqual([
      'sxa-502@h8',
      'sxa-501@h8',
    ]);
    const second = await h.request('GET', `${BASE}?start=1&limit=1`, basic(acme.apiKey));
    expect(callIds(second.json)).toEqual(['sxa-501@h8']);
    // Without both, the usual order (user, then contact).
    const plain = await h.request('GET', `${BASE}?limit=1`, basic(acme.apiKey));
    expect(plain.json.registrations.map((r: { regCallId: string }) => r.regCallId)).toEqual([
      'sxa-501@h8',
      'sxa-502@h8',
    ]);
  });
});

describe('DELETE (RegistrationApiImpl.drop*: Response.ok().build())', () => {
  it('answers 200 with no body, by Call-ID with a .json suffix too', async () => {
    const r = await h.request('DELETE', `${BASE}/callid/sxa-502@h8.json`, basic(acme.apiKey));
    expect([r.status, r.text, r.headers.get('content-type')]).toEqual([200, '', null]);
    expect(await h.liveIds(acme.realm, '502')).toEqual([]);
    expect(await h.liveIds(acme.realm, '501')).toHaveLength(1);
  });
});
