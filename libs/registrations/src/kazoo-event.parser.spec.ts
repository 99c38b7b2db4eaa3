// Kazoo `directory` messages (wire-formats.md §2), starting from real Kamailio captures.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseKazooMessage, OUR_APP_NAME } from './kazoo-event.parser';
import type { ParseResult, RejectCode } from './parse-result';
import { FlushCommand, isFlush, RegistrationEvent } from './registration-event';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/kamailio');

function fixture(name: 'register' | 'refresh' | 'unregister'): Record<string, unknown> {
  return JSON.parse(
    readFileSync(path.join(FIXTURES, `reg_success.${name}.json`), 'utf8'),
  ) as Record<string, unknown>;
}

function fixtureText(name: 'register' | 'refresh' | 'unregister'): string {
  return readFileSync(path.join(FIXTURES, `reg_success.${name}.json`), 'utf8');
}

function registration(r: ParseResult): RegistrationEvent {
  if (!r.ok) throw new Error(`expected an event, got ${r.error.message}`);
  if (isFlush(r.event)) throw new Error('expected a registration event, got a flush');
  return r.event;
}

function flush(r: ParseResult): FlushCommand {
  if (!r.ok) throw new Error(`expected a flush, got ${r.error.message}`);
  if (!isFlush(r.event)) throw new Error('expected a flush');
  return r.event;
}

function rejection(r: ParseResult): { code: RejectCode; detail: string } {
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.event)}`);
  return { code: r.error.code, detail: r.error.detail };
}

/** The register fixture with some keys changed (undefined deletes the key). */
function registerWith(changes: Record<string, unknown>): string {
  const m = { ...fixture('register'), ...changes };
  for (const [k, v] of Object.entries(changes)) if (v === undefined) delete m[k];
  return JSON.stringify(m);
}

describe('Kazoo reg_success: the real Kamailio register capture', () => {
  const e = () => registration(parseKazooMessage(fixtureText('register')));

  it('is a register (First-Registration true) from kazoo', () => {
    expect(e().kind).toBe('register');
    expect(e().origin).toBe('kazoo');
    expect(e().msgId).toBe('51c26379-8976-492f-b2cb-ac7ccd81ab18');
  });

  it('identifies the binding by realm, username and contact URI', () => {
    expect(e()).toMatchObject({
      realm: 'realm01.harness.test',
      username: 'user0001',
      originalContact: '<sip:user0001@127.0.0.1:5070;transport=UDP>',
      contactUri: 'sip:user0001@127.0.0.1:5070;transport=UDP',
      contactIp: '127.0.0.1',
      contactPort: 5070,
      callId: 'user-1@harness',
    });
  });

  it('keeps the granted Expires and turns Event-Timestamp (Unix seconds) into µs', () => {
    expect(e().expires).toBe(600);
    expect(e().eventUs).toBe(1795324509 * 1e6);
  });

  it('says the whole-second timestamp may lag the registration by up to 999,999 µs', () => {
    expect(e().clockSlackUs).toBe(999_999);
  });

  it('takes the account and authorisation from Custom-Channel-Vars', () => {
    expect(e().account).toEqual({
      id: '189eebbeb7e252d633636ce66f127817',
      name: undefined,
      realm: 'realm01.harness.test',
    });
    expect(e().authorizingId).toBe('ae17b8d87914bfc1ff60d214b4832767');
    expect(e().authorizingType).toBe('device');
  });

  it('reads the proxy fields, turning the string Proxy-Port into a number', () => {
    expect(e()).toMatchObject({
      proxyPath: 'sip:127.0.0.1:5060;transport=udp',
      proxyIp: '127.0.0.1',
      proxyPort: 5060,
      proxyProtocol: 'udp',
      registrarNode: 'kamailio@harness.kamailio',
    });
  });

  it('reads the source address (string Source-Port → number)', () => {
    expect(e().sourceIp).toBe('127.0.0.1');
    expect(e().sourcePort).toBe(5070);
  });

  it('reads From/To and the User-Agent (JSON-escaped slash unescaped)', () => {
    expect(e()).toMatchObject({
      fromUser: 'user0001',
      fromHost: 'realm01.harness.test',
      toUser: 'user0001',
      toHost: 'realm01.harness.test',
      userAgent: 'harness-sipp/3.6.1 (kazoo-registrar-harness)',
    });
  });

  it('reports no network address, instance id or MAC where Kamailio sent none', () => {
    expect(e().networkIp).toBeUndefined();
    expect(e().networkPort).toBeUndefined();
    expect(e().sipInstance).toBeUndefined();
    expect(e().mac).toBeUndefined();
  });

  it('accepts the body as a Buffer (as it comes off AMQP)', () => {
    expect(registration(parseKazooMessage(Buffer.from(fixtureText('register'), 'utf8')))).toEqual(
      e(),
    );
  });
});

describe('Kazoo reg_success: the real refresh and unregister captures', () => {
  it('reads First-Registration false as a refresh of the same binding', () => {
    const e = registration(parseKazooMessage(fixtureText('refresh')));
    expect(e.kind).toBe('refresh');
    expect(e.contactUri).toBe('sip:user0001@127.0.0.1:5070;transport=UDP');
    expect(e.expires).toBe(600);
    expect(e.eventUs).toBe(1795324510 * 1e6);
    expect(e.msgId).toBe('225a8d93-60b7-4d01-8113-3c7616d23377');
  });

  it('reads Expires 0 / Status Unregistered as an unregister with expires 0', () => {
    const e = registration(parseKazooMessage(fixtureText('unregister')));
    expect(e).toMatchObject({
      kind: 'unregister',
      expires: 0,
      realm: 'realm03.harness.test',
      username: 'user0003',
      contactUri: 'sip:user0003@127.0.0.1:5070;transport=UDP',
      callId: 'user-3@harness',
      eventUs: 1795324511 * 1e6,
    });
    expect(e.account?.id).toBe('9cee7e08431d642f9559677b6fc85869');
  });
});

describe('Kazoo reg_success: liberal types', () => {
  it('accepts Expires as a string', () => {
    expect(registration(parseKazooMessage(registerWith({ Expires: '600' }))).expires).toBe(600);
  });

  it('accepts Event-Timestamp as a string', () => {
    expect(
      registration(parseKazooMessage(registerWith({ 'Event-Timestamp': '1795324509' }))).eventUs,
    ).toBe(1795324509 * 1e6);
  });

  it('keeps fractions of a second in Event-Timestamp', () => {
    expect(
      registration(parseKazooMessage(registerWith({ 'Event-Timestamp': 1795324509.25 }))).eventUs,
    ).toBe(1795324509250000);
  });

  it('has no clock slack when Event-Timestamp carries fractions or microseconds', () => {
    const slack = (ts: number) =>
      registration(parseKazooMessage(registerWith({ 'Event-Timestamp': ts }))).clockSlackUs;
    expect(slack(1795324509.25)).toBe(0);
    expect(slack(1795324509123)).toBe(999);
    expect(slack(1795324509123456)).toBe(0);
  });

  it('tolerates Event-Timestamp in milliseconds or microseconds', () => {
    expect(
      registration(parseKazooMessage(registerWith({ 'Event-Timestamp': 1795324509123 }))).eventUs,
    ).toBe(1795324509123000);
    expect(
      registration(parseKazooMessage(registerWith({ 'Event-Timestamp': 1795324509123456 })))
        .eventUs,
    ).toBe(1795324509123456);
  });

  it('reads Event-Timestamp in Gregorian seconds (as Kazoo apps stamp) as the same instant', () => {
    const e = registration(
      parseKazooMessage(registerWith({ 'Event-Timestamp': 1795324509 + 62167219200 })),
    );
    expect(e.eventUs).toBe(1795324509 * 1e6);
    expect(e.clockSlackUs).toBe(999_999);
  });

  it('dead-letters an implausible Event-Timestamp instead of freezing the binding', () => {
    const tomorrow = Math.floor(Date.now() / 1000) + 2 * 86400;
    for (const ts of [tomorrow, 1e22, 12345, 0]) {
      const r = rejection(parseKazooMessage(registerWith({ 'Event-Timestamp': ts })));
      expect(r.code).toBe('invalid_payload');
      expect(r.detail).toMatch(/^Event-Timestamp /);
    }
  });

  it('dead-letters an Expires beyond what can be stored (2^31 - 1 s)', () => {
    expect(registration(parseKazooMessage(registerWith({ Expires: 2147483647 }))).expires).toBe(
      2147483647,
    );
    for (const expires of [2147483648, 1e22])
      expect(rejection(parseKazooMessage(registerWith({ Expires: expires }))).detail).toMatch(
        /^Expires /,
      );
  });

  it('drops NUL characters from strings (Postgres cannot store them) and keeps the event', () => {
    const e = registration(parseKazooMessage(registerWith({ 'User-Agent': 'Yealink\u0000 T46' })));
    expect(e.userAgent).toBe('Yealink T46');
  });

  it('accepts First-Registration as a string', () => {
    expect(
      registration(parseKazooMessage(registerWith({ 'First-Registration': 'false' }))).kind,
    ).toBe('refresh');
  });

  it('treats a missing First-Registration as a register (e.g. reg_sync replies)', () => {
    const e = registration(
      parseKazooMessage(registerWith({ 'First-Registration': undefined, Status: 'Success' })),
    );
    expect(e.kind).toBe('register');
  });

  it('accepts ports as numbers and ignores port 0', () => {
    const e = registration(
      parseKazooMessage(registerWith({ 'Proxy-Port': 5080, 'Source-Port': '0' })),
    );
    expect(e.proxyPort).toBe(5080);
    expect(e.sourcePort).toBeUndefined();
  });

  it('treats empty optional strings as absent', () => {
    const e = registration(parseKazooMessage(registerWith({ 'User-Agent': '', 'Call-ID': '' })));
    expect(e.userAgent).toBeUndefined();
    expect(e.callId).toBeUndefined();
  });

  it('ignores unknown extra keys', () => {
    expect(
      registration(parseKazooMessage(registerWith({ 'Some-Future-Key': { a: 1 } }))).kind,
    ).toBe('register');
  });
});

describe('Kazoo reg_success: kind and expires', () => {
  it('reads Status Unregistered as an unregister even with Expires > 0, granting nothing', () => {
    const e = registration(
      parseKazooMessage(registerWith({ Status: 'Unregistered', Expires: 600 })),
    );
    expect(e.kind).toBe('unregister');
    expect(e.expires).toBe(0);
  });

  it('reads a negative Expires as an unregister with expires 0', () => {
    const e = registration(parseKazooMessage(registerWith({ Expires: -1 })));
    expect(e.kind).toBe('unregister');
    expect(e.expires).toBe(0);
  });

  it('reads Status Expired as an expire with expires 0', () => {
    const e = registration(parseKazooMessage(registerWith({ Status: 'Expired', Expires: 600 })));
    expect(e.kind).toBe('expire');
    expect(e.expires).toBe(0);
  });
});

describe('Kazoo reg_success: contact details', () => {
  it('reads +sip.instance and the MAC it carries', () => {
    const e = registration(
      parseKazooMessage(
        registerWith({
          Contact:
            '<sip:1001@10.0.0.5:5062;transport=tcp>;expires=600;+sip.instance="<urn:uuid:00000000-0000-1000-8000-001565AABBCC>";reg-id=1',
        }),
      ),
    );
    expect(e).toMatchObject({
      contactUri: 'sip:1001@10.0.0.5:5062;transport=tcp',
      contactIp: '10.0.0.5',
      contactPort: 5062,
      sipInstance: '<urn:uuid:00000000-0000-1000-8000-001565AABBCC>',
      mac: '001565aabbcc',
    });
  });

  it('finds the MAC in the User-Agent when the contact has no instance id', () => {
    const e = registration(
      parseKazooMessage(
        registerWith({ 'User-Agent': 'Yealink SIP-T46S 66.86.0.15 00:15:65:aa:bb:cc' }),
      ),
    );
    expect(e.mac).toBe('001565aabbcc');
  });

  it('keeps Original-Contact as the original contact when sent', () => {
    const e = registration(
      parseKazooMessage(
        registerWith({ 'Original-Contact': '<sip:user0001@192.168.1.20:5070>;expires=600' }),
      ),
    );
    expect(e.originalContact).toBe('<sip:user0001@192.168.1.20:5070>;expires=600');
    expect(e.contactUri).toBe('sip:user0001@127.0.0.1:5070;transport=UDP');
  });

  it('defaults the contact port (5060, or 5061 for sips)', () => {
    expect(
      registration(parseKazooMessage(registerWith({ Contact: '<sip:1001@10.0.0.5>' }))).contactPort,
    ).toBe(5060);
    expect(
      registration(parseKazooMessage(registerWith({ Contact: '<sips:1001@10.0.0.5>' })))
        .contactPort,
    ).toBe(5061);
  });
});

describe('Kazoo reg_success: account', () => {
  const ccv = (vars: Record<string, unknown>) => ({
    ...(fixture('register')['Custom-Channel-Vars'] as object),
    ...vars,
  });

  it('ignores a malformed Account-ID (not 32 hex digits)', () => {
    for (const bad of [
      'not-an-account',
      '189eebbeb7e252d633636ce66f12781',
      '189eebbeb7e252d633636ce66f12781z',
    ]) {
      const e = registration(
        parseKazooMessage(registerWith({ 'Custom-Channel-Vars': ccv({ 'Account-ID': bad }) })),
      );
      expect(e.account).toBeUndefined();
    }
  });

  it('lower-cases an upper-case hex Account-ID', () => {
    const e = registration(
      parseKazooMessage(
        registerWith({
          'Custom-Channel-Vars': ccv({ 'Account-ID': '189EEBBEB7E252D633636CE66F127817' }),
        }),
      ),
    );
    expect(e.account?.id).toBe('189eebbeb7e252d633636ce66f127817');
  });

  it('carries Account-Name and Account-Realm', () => {
    const e = registration(
      parseKazooMessage(registerWith({ 'Custom-Channel-Vars': ccv({ 'Account-Name': 'Acme' }) })),
    );
    expect(e.account).toEqual({
      id: '189eebbeb7e252d633636ce66f127817',
      name: 'Acme',
      realm: 'realm01.harness.test',
    });
  });

  it('falls back to a top-level Account-ID', () => {
    const e = registration(
      parseKazooMessage(
        registerWith({
          'Custom-Channel-Vars': undefined,
          'Account-ID': '0123456789abcdef0123456789abcdef',
        }),
      ),
    );
    expect(e.account?.id).toBe('0123456789abcdef0123456789abcdef');
  });

  it('has no account when plain Kamailio sends no Custom-Channel-Vars', () => {
    const e = registration(parseKazooMessage(registerWith({ 'Custom-Channel-Vars': undefined })));
    expect(e.account).toBeUndefined();
    expect(e.authorizingId).toBeUndefined();
  });

  it('reads Owner-ID and Suppress-Unregister-Notifications', () => {
    const e = registration(
      parseKazooMessage(
        registerWith({
          'Custom-Channel-Vars': ccv({
            'Owner-ID': 'aa0ba7f3e4a8b9c1d2e3f40516273849',
            'Suppress-Unregister-Notifications': true,
          }),
        }),
      ),
    );
    expect(e.ownerId).toBe('aa0ba7f3e4a8b9c1d2e3f40516273849');
    expect(e.suppressUnregisterNotify).toBe(true);
  });
});

describe('Kazoo reg_success: rejections', () => {
  it('rejects a body that is not JSON as not_json', () => {
    expect(rejection(parseKazooMessage('{"Event-Name": "reg_success"')).code).toBe('not_json');
    expect(rejection(parseKazooMessage(Buffer.from([0xff, 0xfe, 0x00]))).code).toBe('not_json');
  });

  it('rejects JSON that is not an object as not_json', () => {
    expect(rejection(parseKazooMessage('[{"Event-Name": "reg_success"}]')).code).toBe('not_json');
    expect(rejection(parseKazooMessage('null')).code).toBe('not_json');
    expect(rejection(parseKazooMessage('"reg_success"')).code).toBe('not_json');
  });

  it.each(['Realm', 'Username', 'Contact', 'Expires', 'Event-Timestamp'])(
    'rejects a message without %s, naming it',
    (key) => {
      const r = rejection(parseKazooMessage(registerWith({ [key]: undefined })));
      expect(r.code).toBe('invalid_payload');
      expect(r.detail).toContain(key);
    },
  );

  it('rejects an empty or blank Username', () => {
    expect(rejection(parseKazooMessage(registerWith({ Username: '' }))).code).toBe(
      'invalid_payload',
    );
    expect(rejection(parseKazooMessage(registerWith({ Username: '   ' }))).code).toBe(
      'invalid_payload',
    );
  });

  it('rejects a non-numeric Expires', () => {
    const r = rejection(parseKazooMessage(registerWith({ Expires: 'abc' })));
    expect(r.code).toBe('invalid_payload');
    expect(r.detail).toContain('Expires');
  });

  it('rejects a Contact holding no SIP URI as invalid_contact', () => {
    const r = rejection(parseKazooMessage(registerWith({ Contact: 'garbage' })));
    expect(r.code).toBe('invalid_contact');
    expect(r.detail).toContain('garbage');
  });

  it('rejects other Event-Names (reg_query) as unknown_event', () => {
    const r = rejection(
      parseKazooMessage(
        JSON.stringify({ 'Event-Category': 'directory', 'Event-Name': 'reg_query', Realm: 'all' }),
      ),
    );
    expect(r.code).toBe('unknown_event');
    expect(r.detail).toContain('reg_query');
  });

  it('rejects a message without Event-Name as unknown_event', () => {
    expect(rejection(parseKazooMessage(registerWith({ 'Event-Name': undefined }))).code).toBe(
      'unknown_event',
    );
  });
});

describe('Kazoo reg_flush', () => {
  const flushMsg = (m: Record<string, unknown>) =>
    JSON.stringify({
      'Event-Category': 'directory',
      'Event-Name': 'reg_flush',
      'App-Name': 'crossbar',
      'App-Version': '4.3.0',
      'Msg-ID': 'f1',
      ...m,
    });

  it('with Realm only flushes the whole realm (no username)', () => {
    const f = flush(parseKazooMessage(flushMsg({ Realm: 'acme.sip.example.net' })));
    expect(f).toEqual({
      kind: 'flush',
      realm: 'acme.sip.example.net',
      username: undefined,
      msgId: 'f1', // what recognises it when delivered again
      ours: false,
    });
  });

  it('with Username flushes one AOR', () => {
    const f = flush(
      parseKazooMessage(flushMsg({ Realm: 'acme.sip.example.net', Username: '1001' })),
    );
    expect(f).toMatchObject({ realm: 'acme.sip.example.net', username: '1001', ours: false });
  });

  it('treats an empty Username like Kamailio: the whole realm', () => {
    expect(
      flush(parseKazooMessage(flushMsg({ Realm: 'acme.sip.example.net', Username: '' }))).username,
    ).toBeUndefined();
  });

  it(`is ours when App-Name is ${OUR_APP_NAME}`, () => {
    expect(OUR_APP_NAME).toBe('registrations-service');
    const f = flush(
      parseKazooMessage(
        flushMsg({ Realm: 'acme.sip.example.net', 'App-Name': 'registrations-service' }),
      ),
    );
    expect(f.ours).toBe(true);
  });

  describe('naming one contact (our extension: Call-ID, Contact)', () => {
    // As test/kamailio/kamailio.cfg.tmpl's reg-flush event_route and route[FLUSH_CONTACT]
    // read them: only with a Username; a Call-ID, else a contact URI.
    const realm = 'acme.sip.example.net';

    it('reads the Call-ID (and drops the Contact: the Call-ID decides)', () => {
      const f = flush(
        parseKazooMessage(
          flushMsg({ Realm: realm, Username: '1001', 'Call-ID': 'c-1@h', Contact: 'sip:x@h' }),
        ),
      );
      expect(f).toEqual({
        kind: 'flush',
        realm,
        username: '1001',
        callId: 'c-1@h',
        msgId: 'f1',
        ours: false,
      });
    });

    it('reads the Contact when there is no Call-ID, with or without <>', () => {
      for (const Contact of ['sip:1001@192.0.2.1:5060', ' <sip:1001@192.0.2.1:5060> ']) {
        const f = flush(parseKazooMessage(flushMsg({ Realm: realm, Username: '1001', Contact })));
        expect(f).toMatchObject({ username: '1001', contactUri: 'sip:1001@192.0.2.1:5060' });
        expect(f.callId).toBeUndefined();
      }
    });

    it('ignores both without a Username (a realm flush), and empty values', () => {
      const realmWide = flush(
        parseKazooMessage(flushMsg({ Realm: realm, 'Call-ID': 'c-1@h', Contact: 'sip:x@h' })),
      );
      expect(realmWide).toEqual({
        kind: 'flush',
        realm,
        username: undefined,
        msgId: 'f1',
        ours: false,
      });
      const empty = flush(
        parseKazooMessage(flushMsg({ Realm: realm, Username: '1001', 'Call-ID': '', Contact: '' })),
      );
      expect(empty.callId).toBeUndefined();
      expect(empty.contactUri).toBeUndefined();
    });

    it('rejects a Call-ID or Contact too long to be stored, as value_too_long', () => {
      const longCallId = rejection(
        parseKazooMessage(
          flushMsg({ Realm: realm, Username: '1001', 'Call-ID': 'c'.repeat(1025) }),
        ),
      );
      expect(longCallId.code).toBe('value_too_long');
      const longContact = rejection(
        parseKazooMessage(
          flushMsg({ Realm: realm, Username: '1001', Contact: `sip:${'x'.repeat(2100)}@h` }),
        ),
      );
      expect(longContact.code).toBe('value_too_long');
    });
  });

  it('rejects a flush without Realm', () => {
    const r = rejection(parseKazooMessage(flushMsg({ Username: '1001' })));
    expect(r.code).toBe('invalid_payload');
    expect(r.detail).toContain('Realm');
  });
});
