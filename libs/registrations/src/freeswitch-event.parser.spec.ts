// FreeSWITCH mod_amqp CUSTOM sofia::register / ::unregister / ::expire (wire-formats.md §3).
// Bodies are flat JSON objects whose values are all strings, as mod_amqp serialises events.
import { parseFreeswitchMessage } from './freeswitch-event.parser';
import type { ParseResult, RejectCode } from './parse-result';
import { isFlush, RegistrationEvent } from './registration-event';

const CORE_UUID = '6d0fbc7e-3c1a-4b8e-9a51-2f0e8d3c1b77';

function common(subclass: string, seq: string): Record<string, string> {
  return {
    'Event-Name': 'CUSTOM',
    'Core-UUID': CORE_UUID,
    'FreeSWITCH-Hostname': 'fs1.example.net',
    'FreeSWITCH-Switchname': 'fs1',
    'FreeSWITCH-IPv4': '10.0.0.10',
    'FreeSWITCH-IPv6': '::1',
    'Event-Date-Local': '2026-11-22 10:35:10',
    'Event-Date-GMT': 'Sun, 22 Nov 2026 10:35:10 GMT',
    'Event-Date-Timestamp': '1795350910123456',
    'Event-Calling-File': 'sofia_reg.c',
    'Event-Calling-Function': 'sofia_reg_handle_register_token',
    'Event-Calling-Line-Number': '2084',
    'Event-Sequence': seq,
    'Event-Subclass': subclass,
  };
}

const REGISTER: Record<string, string> = {
  ...common('sofia::register', '5123'),
  'profile-name': 'internal',
  'from-user': '1001',
  'from-host': 'acme.sip.example.net',
  'presence-hosts': 'acme.sip.example.net',
  contact: '"1001" <sip:1001@192.168.1.20:5062;transport=tcp>',
  'call-id': 'a84b4c76e66710@192.168.1.20',
  rpid: 'unknown',
  status: 'Registered(TCP-NAT)',
  expires: '600',
  'to-user': '1001',
  'to-host': 'acme.sip.example.net',
  'network-ip': '203.0.113.7',
  'network-port': '40123',
  username: '1001',
  realm: 'acme.sip.example.net',
  'user-agent': 'Yealink SIP-T46S 66.86.0.15',
  'update-reg': 'false',
};

const UNREGISTER: Record<string, string> = {
  ...common('sofia::unregister', '5124'),
  'profile-name': 'internal',
  username: '1001',
  'from-user': '1001',
  'from-host': 'acme.sip.example.net',
  contact: '"1001" <sip:1001@192.168.1.20:5062;transport=tcp>',
  'call-id': 'a84b4c76e66710@192.168.1.20',
  rpid: 'unknown',
  realm: 'acme.sip.example.net',
  'network-ip': '203.0.113.7',
  'network-port': '40123',
  'user-agent': 'Yealink SIP-T46S 66.86.0.15',
  expires: '0',
};

const EXPIRE: Record<string, string> = {
  ...common('sofia::expire', '5125'),
  'profile-name': 'internal',
  'call-id': 'a84b4c76e66710@192.168.1.20',
  user: '1001',
  username: '1001',
  host: 'acme.sip.example.net',
  contact: '"1001" <sip:1001@192.168.1.20:5062;transport=tcp>',
  expires: '1795351510',
  'user-agent': 'Yealink SIP-T46S 66.86.0.15',
  realm: 'acme.sip.example.net',
  'network-ip': '203.0.113.7',
  'network-port': '40123',
};

function parse(
  base: Record<string, string>,
  changes: Record<string, string | undefined> = {},
): ParseResult {
  const m: Record<string, string> = { ...base };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete m[k];
    else m[k] = v;
  }
  return parseFreeswitchMessage(JSON.stringify(m));
}

function registration(r: ParseResult): RegistrationEvent {
  if (!r.ok) throw new Error(`expected an event, got ${r.error.message}`);
  if (isFlush(r.event)) throw new Error('expected a registration event, got a flush');
  return r.event;
}

function rejection(r: ParseResult): { code: RejectCode; detail: string } {
  if (r.ok) throw new Error(`expected a rejection, got ${JSON.stringify(r.event)}`);
  return { code: r.error.code, detail: r.error.detail };
}

describe('FreeSWITCH sofia::register', () => {
  const e = () => registration(parse(REGISTER));

  it('is a register from freeswitch, recognised by Core-UUID:Event-Sequence', () => {
    expect(e().kind).toBe('register');
    expect(e().origin).toBe('freeswitch');
    expect(e().msgId).toBe(`${CORE_UUID}:5123`);
  });

  it('identifies the binding by from-host, from-user and the contact URI', () => {
    expect(e()).toMatchObject({
      realm: 'acme.sip.example.net',
      username: '1001',
      originalContact: '"1001" <sip:1001@192.168.1.20:5062;transport=tcp>',
      contactUri: 'sip:1001@192.168.1.20:5062;transport=tcp',
      contactIp: '192.168.1.20',
      contactPort: 5062,
      callId: 'a84b4c76e66710@192.168.1.20',
    });
  });

  it('reads the relative expires string as seconds granted', () => {
    expect(e().expires).toBe(600);
  });

  it('takes Event-Date-Timestamp as microseconds', () => {
    expect(e().eventUs).toBe(1795350910123456);
  });

  it('reads the NAT address as source and network address', () => {
    expect(e()).toMatchObject({
      sourceIp: '203.0.113.7',
      sourcePort: 40123,
      networkIp: '203.0.113.7',
      networkPort: 40123,
    });
  });

  it('records the switch, its profile and the transport from status', () => {
    expect(e()).toMatchObject({
      proxyIp: '10.0.0.10',
      proxyProtocol: 'tcp',
      registrarNode: 'fs1.example.net',
      fsHostname: 'fs1.example.net',
      fsProfile: 'internal',
    });
  });

  it('reads From/To and the User-Agent', () => {
    expect(e()).toMatchObject({
      fromUser: '1001',
      fromHost: 'acme.sip.example.net',
      toUser: '1001',
      toHost: 'acme.sip.example.net',
      userAgent: 'Yealink SIP-T46S 66.86.0.15',
    });
  });

  it('has no account (FreeSWITCH sends none)', () => {
    expect(e().account).toBeUndefined();
  });

  it('reads update-reg "true" as a refresh', () => {
    expect(registration(parse(REGISTER, { 'update-reg': 'true' })).kind).toBe('refresh');
  });

  it('treats a missing update-reg as a register', () => {
    expect(registration(parse(REGISTER, { 'update-reg': undefined })).kind).toBe('register');
  });

  it('reads expires "0" as an unregister', () => {
    const ev = registration(parse(REGISTER, { expires: '0' }));
    expect(ev.kind).toBe('unregister');
    expect(ev.expires).toBe(0);
  });

  it('reads a refresh with expires "0" as an unregister too', () => {
    expect(registration(parse(REGISTER, { expires: '0', 'update-reg': 'true' })).kind).toBe(
      'unregister',
    );
  });

  it('dead-letters a register without expires (it cannot be told from an unregister)', () => {
    const r = rejection(parse(REGISTER, { expires: undefined }));
    expect(r).toEqual({ code: 'invalid_payload', detail: 'expires: required for sofia::register' });
  });

  it('dead-letters an implausible Event-Date-Timestamp (seconds instead of µs, far future)', () => {
    const future = String((Date.now() + 3 * 86400_000) * 1000);
    for (const ts of ['1795350910', future]) {
      const r = rejection(parse(REGISTER, { 'Event-Date-Timestamp': ts }));
      expect(r.code).toBe('invalid_payload');
      expect(r.detail).toMatch(/^Event-Date-Timestamp /);
    }
  });

  it('accepts the body as a Buffer', () => {
    expect(registration(parseFreeswitchMessage(Buffer.from(JSON.stringify(REGISTER))))).toEqual(
      e(),
    );
  });
});

describe('FreeSWITCH: the AOR versus the digest credentials', () => {
  it('ignores `unknown` digest credentials when no authentication ran', () => {
    const ev = registration(parse(REGISTER, { username: 'unknown', realm: 'unknown' }));
    expect(ev.username).toBe('1001');
    expect(ev.realm).toBe('acme.sip.example.net');
  });

  it('prefers the AOR (from-user/from-host) over different digest credentials', () => {
    const ev = registration(parse(REGISTER, { username: 'auth-1001', realm: 'auth.example.net' }));
    expect(ev.username).toBe('1001');
    expect(ev.realm).toBe('acme.sip.example.net');
  });

  it('falls back to the digest credentials when no AOR was sent', () => {
    const ev = registration(parse(REGISTER, { 'from-user': undefined, 'from-host': undefined }));
    expect(ev.username).toBe('1001');
    expect(ev.realm).toBe('acme.sip.example.net');
  });

  it('rejects an event whose only username is `unknown`', () => {
    const r = rejection(parse(REGISTER, { 'from-user': undefined, username: 'unknown' }));
    expect(r.code).toBe('invalid_payload');
  });

  it('rejects an event without any realm', () => {
    const r = rejection(parse(REGISTER, { 'from-host': undefined, realm: 'UNKNOWN' }));
    expect(r.code).toBe('invalid_payload');
  });
});

describe('FreeSWITCH sofia::unregister', () => {
  it('is an unregister of the same binding with expires 0', () => {
    const ev = registration(parse(UNREGISTER));
    expect(ev).toMatchObject({
      kind: 'unregister',
      expires: 0,
      realm: 'acme.sip.example.net',
      username: '1001',
      contactUri: 'sip:1001@192.168.1.20:5062;transport=tcp',
      msgId: `${CORE_UUID}:5124`,
      eventUs: 1795350910123456,
    });
  });

  it('grants nothing even if expires is not 0', () => {
    expect(registration(parse(UNREGISTER, { expires: '600' })).expires).toBe(0);
  });
});

describe('FreeSWITCH sofia::expire', () => {
  const ev = () => registration(parse(EXPIRE));

  it('is an expire whose absolute expires is not taken for a grant', () => {
    expect(ev().kind).toBe('expire');
    expect(ev().expires).toBe(0);
  });

  it('identifies the binding by user/host', () => {
    expect(ev()).toMatchObject({
      username: '1001',
      realm: 'acme.sip.example.net',
      contactUri: 'sip:1001@192.168.1.20:5062;transport=tcp',
      callId: 'a84b4c76e66710@192.168.1.20',
      eventUs: 1795350910123456,
    });
  });

  it('uses user/host over digest username/realm', () => {
    const e2 = registration(parse(EXPIRE, { username: 'auth-1001', realm: 'auth.example.net' }));
    expect(e2.username).toBe('1001');
    expect(e2.realm).toBe('acme.sip.example.net');
  });
});

describe('FreeSWITCH: details', () => {
  it('has no msgId without Core-UUID', () => {
    expect(registration(parse(REGISTER, { 'Core-UUID': undefined })).msgId).toBeUndefined();
  });

  it.each([
    ['Registered(UDP)', 'udp'],
    ['Registered(TCP-NAT)', 'tcp'],
    ['Registered(TLS)', 'tls'],
    ['Registered(WSS-NAT)', 'wss'],
  ])('reads status %s as protocol %s', (status, protocol) => {
    expect(registration(parse(REGISTER, { status })).proxyProtocol).toBe(protocol);
  });

  it('falls back to the contact transport without status', () => {
    expect(registration(parse(REGISTER, { status: undefined })).proxyProtocol).toBe('tcp');
  });

  it('reads the MAC from +sip.instance in the contact', () => {
    const ev = registration(
      parse(REGISTER, {
        contact:
          '<sip:1001@192.168.1.20:5060>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-001565AABBCC>";reg-id=1',
      }),
    );
    expect(ev.sipInstance).toBe('<urn:uuid:00000000-0000-1000-8000-001565AABBCC>');
    expect(ev.mac).toBe('001565aabbcc');
  });

  it('ignores network-port 0', () => {
    const ev = registration(parse(REGISTER, { 'network-port': '0' }));
    expect(ev.networkPort).toBeUndefined();
    expect(ev.sourcePort).toBeUndefined();
  });
});

describe('FreeSWITCH: rejections', () => {
  it.each(['sofia::gateway_state', 'sofia::sip_user_state', 'conference::maintenance'])(
    'rejects subclass %s as unknown_event',
    (subclass) => {
      const r = rejection(parse(REGISTER, { 'Event-Subclass': subclass }));
      expect(r.code).toBe('unknown_event');
      expect(r.detail).toContain(subclass);
    },
  );

  it('rejects an event without subclass as unknown_event', () => {
    expect(rejection(parse(REGISTER, { 'Event-Subclass': undefined })).code).toBe('unknown_event');
  });

  it('rejects a body that is not a JSON object as not_json', () => {
    expect(rejection(parseFreeswitchMessage('Event-Name: CUSTOM')).code).toBe('not_json');
    expect(rejection(parseFreeswitchMessage('[]')).code).toBe('not_json');
  });

  it('rejects an event without contact', () => {
    const r = rejection(parse(REGISTER, { contact: undefined }));
    expect(r.code).toBe('invalid_payload');
    expect(r.detail).toContain('contact');
  });

  it('rejects a contact holding no SIP URI as invalid_contact', () => {
    expect(rejection(parse(REGISTER, { contact: 'nonsense' })).code).toBe('invalid_contact');
  });

  it('rejects a non-numeric Event-Date-Timestamp or expires', () => {
    expect(rejection(parse(REGISTER, { 'Event-Date-Timestamp': 'yesterday' })).code).toBe(
      'invalid_payload',
    );
    expect(rejection(parse(REGISTER, { 'Event-Date-Timestamp': undefined })).code).toBe(
      'invalid_payload',
    );
    expect(rejection(parse(REGISTER, { expires: 'soon' })).code).toBe('invalid_payload');
  });
});
