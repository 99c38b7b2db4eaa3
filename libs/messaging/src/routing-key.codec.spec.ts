// Routing-key segment encoding shared by Kazoo, Kamailio and FreeSWITCH (wire-formats.md §1).
import { decodeSegment, encodeSegment, routingKey } from './routing-key.codec';

describe('encodeSegment', () => {
  it('encodes dots as %2E so a realm stays one segment', () => {
    expect(encodeSegment('acme.sip.example.net')).toBe('acme%2Esip%2Eexample%2Enet');
  });

  it('keeps letters, digits, -, ~ and _', () => {
    expect(encodeSegment('AZaz09-~_')).toBe('AZaz09-~_');
  });

  it('encodes a space as +', () => {
    expect(encodeSegment('front desk')).toBe('front+desk');
  });

  it('leaves the wildcards * and # alone when they are the whole segment', () => {
    expect(encodeSegment('*')).toBe('*');
    expect(encodeSegment('#')).toBe('#');
  });

  it('encodes * and # inside a longer segment', () => {
    expect(encodeSegment('a*b')).toBe('a%2Ab');
    expect(encodeSegment('#1')).toBe('%231');
  });

  it('encodes FreeSWITCH subclasses', () => {
    expect(encodeSegment('sofia::register')).toBe('sofia%3A%3Aregister');
  });

  it('encodes other bytes as upper-case %XX, non-ASCII as UTF-8 bytes', () => {
    expect(encodeSegment('é')).toBe('%C3%A9');
    expect(encodeSegment('user@host')).toBe('user%40host');
    expect(encodeSegment('a+b')).toBe('a%2Bb');
    expect(encodeSegment('100%')).toBe('100%25');
    expect(encodeSegment('/')).toBe('%2F');
  });

  it('keeps an empty segment empty', () => {
    expect(encodeSegment('')).toBe('');
  });
});

describe('routingKey', () => {
  it('encodes each segment and joins them with dots', () => {
    expect(routingKey('registration', 'success', 'acme.sip.example.net', '1001')).toBe(
      'registration.success.acme%2Esip%2Eexample%2Enet.1001',
    );
  });

  it('builds the FreeSWITCH binding key with wildcards', () => {
    expect(routingKey('*', '*', 'CUSTOM', 'sofia::register', '#')).toBe(
      '*.*.CUSTOM.sofia%3A%3Aregister.#',
    );
  });
});

describe('decodeSegment', () => {
  it('decodes %XX and +', () => {
    expect(decodeSegment('acme%2Esip%2Eexample%2Enet')).toBe('acme.sip.example.net');
    expect(decodeSegment('front+desk')).toBe('front desk');
    expect(decodeSegment('%C3%A9')).toBe('é');
  });

  it.each([
    'acme.sip.example.net',
    'front desk',
    'sofia::register',
    'é 日本 ☎',
    'a+b%c',
    'user@host;x=1',
    '*',
    '#',
    'a*b',
    '',
  ])('round-trips %j', (s) => {
    expect(decodeSegment(encodeSegment(s))).toBe(s);
  });
});
