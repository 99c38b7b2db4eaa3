// Routing-key segment encoding shared by Kazoo, Kamailio and FreeSWITCH (wire-formats.md §1).
import fc from 'fast-check';
import { decodeSegment, encodeSegment, routingKey } from './routing-key.codec';

/** The definition, byte by byte (the codec's first implementation): the codec must agree. */
function encodeByteByByte(segment: string): string {
  if (segment === '*' || segment === '#') return segment;
  let out = '';
  for (const byte of Buffer.from(segment, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte < 0x80 && /^[A-Za-z0-9\-~_]$/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

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

  it('encodes any string as the byte-by-byte definition does (lone surrogates too)', () => {
    const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    const anyString = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: codeUnit }),
      fc.string({ unit: fc.constantFrom('.', ' ', '*', '#', 'a', 'é', '☎', '\ud83d', '\ude00') }),
    );
    fc.assert(
      fc.property(anyString, (s) => expect(encodeSegment(s)).toBe(encodeByteByByte(s))),
      { numRuns: 2000 },
    );
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
