// Contact header values as Kamailio and FreeSWITCH report them: the URI inside <> is the
// binding's identity; header parameters (expires, +sip.instance, reg-id…) only describe it.
import { hostPort, isIpAddress, kazooContact, parseContact } from './sip-contact';

const INSTANCE = '<urn:uuid:00000000-0000-1000-8000-001565AABBCC>';

describe('parseContact: name-addr form <uri>;header-params', () => {
  const raw = `<sip:u@h:5062;transport=tcp>;expires=600;+sip.instance="${INSTANCE}";reg-id=1`;

  it('keeps the URI (with its URI parameters) and drops the header parameters', () => {
    expect(parseContact(raw)?.uri).toBe('sip:u@h:5062;transport=tcp');
  });

  it('splits scheme, user, host, port and transport', () => {
    expect(parseContact(raw)).toMatchObject({
      scheme: 'sip',
      user: 'u',
      host: 'h',
      port: 5062,
      transport: 'tcp',
    });
  });

  it('reads +sip.instance (quotes removed) and reg-id from the header parameters', () => {
    const c = parseContact(raw);
    expect(c?.sipInstance).toBe(INSTANCE);
    expect(c?.regId).toBe('1');
  });

  it('gives the same URI whatever the header parameters, so refreshes hit the same binding', () => {
    const a = parseContact('<sip:1001@10.0.0.5:5062;transport=tcp>;expires=600');
    const b = parseContact('<sip:1001@10.0.0.5:5062;transport=tcp>;expires=3600;q=0.5;reg-id=2');
    expect(a?.uri).toBe(b?.uri);
  });

  it('accepts a display name before the <uri>', () => {
    const c = parseContact('"Alice" <sips:alice@example.net:5061>;expires=60');
    expect(c).toMatchObject({
      uri: 'sips:alice@example.net:5061',
      scheme: 'sips',
      user: 'alice',
      host: 'example.net',
      port: 5061,
    });
  });

  it('accepts an unquoted display name', () => {
    expect(parseContact('Alice <sip:alice@10.1.1.1:5080>')).toMatchObject({
      uri: 'sip:alice@10.1.1.1:5080',
      port: 5080,
    });
  });

  it('is not fooled by a "<" inside a quoted display name', () => {
    expect(parseContact('"Alice <desk>" <sip:alice@10.1.1.1:5080>')).toMatchObject({
      uri: 'sip:alice@10.1.1.1:5080',
      host: '10.1.1.1',
    });
  });

  it('lower-cases the scheme and the transport', () => {
    const c = parseContact('<SIP:user0001@127.0.0.1:5070;transport=UDP>');
    expect(c?.scheme).toBe('sip');
    expect(c?.transport).toBe('udp');
  });
});

describe('parseContact: bare URI form (no angle brackets)', () => {
  it('drops the known header parameters (expires) from the URI but keeps URI parameters', () => {
    const c = parseContact('sip:u@10.0.0.5:5060;transport=udp;expires=60');
    expect(c).toMatchObject({
      uri: 'sip:u@10.0.0.5:5060;transport=udp',
      host: '10.0.0.5',
      port: 5060,
      transport: 'udp',
    });
  });

  it('drops q, reg-id and methods too', () => {
    const c = parseContact('sip:u@10.0.0.5:5060;q=0.8;transport=tcp;reg-id=1;methods="INVITE,BYE"');
    expect(c?.uri).toBe('sip:u@10.0.0.5:5060;transport=tcp');
    expect(c?.regId).toBe('1');
  });

  it('reads a quoted +sip.instance whose value holds "<" and ">"', () => {
    const c = parseContact(
      `sip:u@10.0.0.5:5060;transport=udp;+sip.instance="${INSTANCE}";expires=60`,
    );
    expect(c).toMatchObject({
      uri: 'sip:u@10.0.0.5:5060;transport=udp',
      host: '10.0.0.5',
      sipInstance: INSTANCE,
    });
  });

  it('accepts surrounding whitespace', () => {
    expect(parseContact('  sip:u@10.0.0.5:5070  ')?.uri).toBe('sip:u@10.0.0.5:5070');
  });
});

describe('parseContact: hosts and ports', () => {
  it('gives an IPv6 host without brackets, keeping the brackets in the URI', () => {
    const c = parseContact('<sip:u@[2001:db8::1]:5062>');
    expect(c).toMatchObject({ host: '2001:db8::1', port: 5062, uri: 'sip:u@[2001:db8::1]:5062' });
  });

  it('defaults an IPv6 contact without port to 5060', () => {
    expect(parseContact('<sip:u@[2001:db8::1]>')).toMatchObject({
      host: '2001:db8::1',
      port: 5060,
    });
  });

  it('defaults to 5060 for sip without port', () => {
    expect(parseContact('<sip:u@10.0.0.5>')?.port).toBe(5060);
  });

  it('defaults to 5061 for sips', () => {
    expect(parseContact('<sips:u@10.0.0.5>')?.port).toBe(5061);
  });

  it('defaults to 5061 for transport=tls (any case)', () => {
    expect(parseContact('<sip:u@10.0.0.5;transport=TLS>')?.port).toBe(5061);
  });

  it('treats port 0 as absent', () => {
    expect(parseContact('<sip:u@10.0.0.5:0;transport=tcp>')?.port).toBe(5060);
    expect(parseContact('<sips:u@10.0.0.5:0>')?.port).toBe(5061);
  });

  it('accepts a contact without user part', () => {
    const c = parseContact('<sip:10.0.0.5:5060>');
    expect(c).toMatchObject({ host: '10.0.0.5', port: 5060 });
    expect(c?.user).toBeUndefined();
  });

  it('accepts a hostname', () => {
    expect(parseContact('<sip:1001@phone.example.net:5090;transport=udp>')).toMatchObject({
      host: 'phone.example.net',
      port: 5090,
    });
  });
});

describe('parseContact: garbage', () => {
  it.each([
    ['empty', ''],
    ['blank', '   '],
    ['plain text', 'garbage'],
    ['http URI', '<http://example.net/>'],
    ['unterminated <', '<sip:u@10.0.0.5:5060'],
    ['mailto', 'mailto:someone@example.net'],
  ])('returns undefined for %s', (_name, raw) => {
    expect(parseContact(raw)).toBeUndefined();
  });
});

describe('kazooContact', () => {
  it('strips < and > like Kazoo lists `contact`', () => {
    expect(kazooContact('<sip:user0001@127.0.0.1:5070;transport=UDP>')).toBe(
      'sip:user0001@127.0.0.1:5070;transport=UDP',
    );
  });

  it('keeps header parameters and strips the brackets inside them too', () => {
    expect(kazooContact(`<sip:u@h:5060>;+sip.instance="${INSTANCE}"`)).toBe(
      'sip:u@h:5060;+sip.instance="urn:uuid:00000000-0000-1000-8000-001565AABBCC"',
    );
  });

  it('leaves a bare contact unchanged', () => {
    expect(kazooContact('sip:u@10.0.0.5:5060')).toBe('sip:u@10.0.0.5:5060');
  });
});

describe('hostPort', () => {
  it('joins an IPv4 address and port', () => {
    expect(hostPort('10.0.0.5', 5060)).toBe('10.0.0.5:5060');
  });

  it('puts an IPv6 address in brackets', () => {
    expect(hostPort('2001:db8::1', 5062)).toBe('[2001:db8::1]:5062');
  });

  it('gives the host alone when the port is unknown', () => {
    expect(hostPort('10.0.0.5', undefined)).toBe('10.0.0.5');
    expect(hostPort('2001:db8::1', 0)).toBe('[2001:db8::1]');
  });

  it('gives undefined without host', () => {
    expect(hostPort(undefined, 5060)).toBeUndefined();
    expect(hostPort('', 5060)).toBeUndefined();
  });
});

describe('isIpAddress', () => {
  it('recognises IPv4 and IPv6 literals', () => {
    expect(isIpAddress('10.0.0.5')).toBe(true);
    expect(isIpAddress('2001:db8::1')).toBe(true);
    expect(isIpAddress('::ffff:10.0.0.5')).toBe(true);
  });

  it('rejects hostnames', () => {
    expect(isIpAddress('phone.example.net')).toBe(false);
    expect(isIpAddress('realm01.harness.test')).toBe(false);
  });
});
