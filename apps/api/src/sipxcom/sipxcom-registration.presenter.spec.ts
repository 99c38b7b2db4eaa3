// sipXcom items from store rows, and XML that escapes everything and parses back.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { DialectRow } from '@app/persistence';
import { toSipxcomRegistration, toSipxcomXml } from './sipxcom-registration.presenter';

const row = (over: Partial<DialectRow> = {}): DialectRow => ({
  id: 7,
  extensionId: 3,
  accountId: 'a'.repeat(32),
  realm: 'acme.example.net',
  username: '300',
  originalContact: '<sip:300@192.168.1.75:47745;rinstance=3a3f;transport=TCP>',
  contactIp: '192.168.1.75',
  contactPort: 47745,
  sourceIp: '203.0.113.9',
  sourcePort: 40000,
  networkIp: null,
  networkPort: null,
  callId: 'YWQ2ZDQ4NTVh.',
  userAgent: 'Yealink SIP-T46G',
  mac: '001565a1b2c3',
  proxyIp: '10.5.0.151',
  proxyPath: 'sip:10.5.0.151:5060;transport=udp',
  registrarNode: 'kamailio@px1.example.net',
  refreshCount: 0,
  firstRegisteredS: 1_800_000_000,
  lastRegisteredS: 1_800_000_000,
  expiresAtS: 1_800_000_600.5,
  endedAtS: null,
  endReason: null,
  ...over,
});

describe('toSipxcomRegistration', () => {
  it('maps every field', () => {
    expect(toSipxcomRegistration(row(), 1_800_000_100)).toEqual({
      contact: '<sip:300@192.168.1.75:47745;rinstance=3a3f;transport=TCP>',
      expires: 1_800_000_600,
      identity: '300@acme.example.net',
      instrument: '001565a1b2c3',
      primary: '10.5.0.151',
      regCallId: 'YWQ2ZDQ4NTVh.',
      uri: 'sip:300@acme.example.net',
      secondsToExpire: 500,
      status: 'active',
    });
  });

  it('falls back to the proxy path host, then the registrar node host', () => {
    expect(
      toSipxcomRegistration(row({ proxyIp: null, proxyPath: 'sip:[2001:db8::5]:5060' }), 0).primary,
    ).toBe('2001:db8::5');
    expect(toSipxcomRegistration(row({ proxyIp: null, proxyPath: null }), 0).primary).toBe(
      'px1.example.net',
    );
    expect(
      toSipxcomRegistration(row({ proxyIp: null, proxyPath: null, registrarNode: null }), 0)
        .primary,
    ).toBe('');
  });

  it('shows a stopped binding with its stop time and no time left', () => {
    const item = toSipxcomRegistration(row({ endedAtS: 1_800_000_200.9 }), 1_800_000_300);
    expect(item).toMatchObject({ expires: 1_800_000_200, secondsToExpire: 0, status: 'stopped' });
  });
});

describe('toSipxcomXml', () => {
  it('escapes markup and drops characters XML cannot carry, and parses back', () => {
    const nasty = row({
      callId: `a&b<c>"d'e\u0001f`,
      originalContact: '<sip:300@[2001:db8::1]:5060>;+sip.instance="<urn:uuid:x>"',
      mac: null,
    });
    const xml = toSipxcomXml([toSipxcomRegistration(nasty, 0), toSipxcomRegistration(row(), 0)]);
    expect(XMLValidator.validate(xml)).toBe(true);
    const parsed = new XMLParser({ parseTagValue: false }).parse(xml);
    const [first, second] = parsed.Registrations.Registration;
    expect(first.regCallId).toBe(`a&b<c>"d'e\uFFFDf`);
    expect(first.contact).toBe('<sip:300@[2001:db8::1]:5060>;+sip.instance="<urn:uuid:x>"');
    expect(first.instrument).toBe('');
    expect(second.instrument).toBe('001565a1b2c3');
    expect(Object.keys(first)).toEqual([
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
  });

  it('writes an empty list as an empty element', () => {
    expect(toSipxcomXml([])).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Registrations/>');
  });
});
