// The console's pure logic: filters (as query parameters and as a match for feed arrivals),
// MAC derivation as the ingest does it, times, sorting, and user agents split for the charts.
import { splitAgent } from './agents';
import {
  BindingItem,
  bindingKey,
  contactFlushText,
  describePublished,
  proxyText,
  expiresAtMs,
  filterParams,
  formatDuration,
  GREGORIAN_OFFSET_S,
  macOf,
  matches,
  NO_FILTERS,
  sortParams,
  sortsWithinLoaded,
} from './bindings';

const b = (o: Partial<BindingItem>): BindingItem => ({ username: 'u', realm: 'r.test', ...o });

describe('filters', () => {
  it('become filter_<key> parameters, the MAC normalised; a bad MAC is an error text', () => {
    const p = filterParams({ ...NO_FILTERS, username: ' Alice ', mac: '00:15:65:A1:B2:C3' });
    expect(String(p)).toBe('filter_username=Alice&filter_mac=001565a1b2c3');
    expect(filterParams({ ...NO_FILTERS, mac: 'nope' })).toBe('not a MAC address: nope');
  });

  it('match a binding as the API would (user without case, exact others)', () => {
    const x = b({ username: 'Alice', source_ip: '192.0.2.1', user_agent: 'Yealink' });
    expect(matches(x, { ...NO_FILTERS, username: 'alice' })).toBe(true);
    expect(matches(x, { ...NO_FILTERS, ip: '192.0.2.2' })).toBe(false);
    expect(matches(x, { ...NO_FILTERS, user_agent: 'Yealink' })).toBe(true);
    expect(matches(x, { ...NO_FILTERS, user_agent: 'Yea' })).toBe(false);
  });

  it('as partial matches: user starts with, user agent contains (both without case)', () => {
    const partial = { ...NO_FILTERS, partial: true };
    expect(String(filterParams({ ...partial, username: 'al', user_agent: 'link' }))).toBe(
      'search_username=al&search_user_agent=link',
    );
    const x = b({ username: 'Alice', user_agent: 'Yealink SIP-T46S' });
    expect(matches(x, { ...partial, username: 'AL', user_agent: 'sip-t4' })).toBe(true);
    expect(matches(x, { ...partial, username: 'lice' })).toBe(false);
    expect(matches(x, { ...partial, user_agent: 'Polycom' })).toBe(false);
    expect(matches(x, { ...partial, username: 'al', ip: '192.0.2.9' })).toBe(false);
  });
});

it('derives the MAC from the instance id in the contact, else the User-Agent', () => {
  expect(
    macOf(
      b({
        original_contact:
          '<sip:u@10.0.0.1:5060>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-001565AABBCC>"',
      }),
    ),
  ).toBe('001565aabbcc');
  expect(macOf(b({ user_agent: 'Grandstream GXP2170 1.0.11.23 00:0b:82:12:34:56' }))).toBe(
    '000b82123456',
  );
  expect(macOf(b({ mac: '0011223344ff', user_agent: 'x' }))).toBe('0011223344ff');
});

it('keys a binding by realm and user without case, and contact', () => {
  expect(bindingKey(b({ username: 'A', realm: 'R', original_contact: '<sip:a@x>' }))).toBe(
    bindingKey(b({ username: 'a', realm: 'r', original_contact: '<sip:a@x>' })),
  );
});

it('expires at its last event plus the expiry granted; counts down as m:ss', () => {
  const at = b({ event_timestamp: GREGORIAN_OFFSET_S + 1000, expires: 600 });
  expect(expiresAtMs(at)).toBe(1_600_000);
  expect(formatDuration(61_000)).toBe('1:01');
  expect(formatDuration(3_661_000)).toBe('1:01:01');
  expect(formatDuration(0)).toBe('expired');
});

it('asks the API for a sort, and keeps a live arrival only where the loaded pages reach', () => {
  expect(sortParams({ key: 'user_agent', dir: -1 }).toString()).toBe('sort=user_agent&order=desc');
  expect(sortParams(undefined).toString()).toBe('');
  const last = b({ username: 'm', user_agent: 'Polycom' });
  expect(sortsWithinLoaded(b({ username: 'a' }), last, undefined)).toBe(true);
  expect(sortsWithinLoaded(b({ username: 'z' }), last, undefined)).toBe(false);
  const ua = (user_agent: string) => b({ user_agent });
  expect(sortsWithinLoaded(ua('Aastra'), last, { key: 'user_agent', dir: 1 })).toBe(true);
  expect(sortsWithinLoaded(ua('Yealink'), last, { key: 'user_agent', dir: 1 })).toBe(false);
  expect(sortsWithinLoaded(ua('Yealink'), last, { key: 'user_agent', dir: -1 })).toBe(true);
});

it('splits a User-Agent into model and firmware', () => {
  expect(splitAgent('Yealink SIP-T46S 66.86.0.15')).toEqual({
    model: 'Yealink SIP-T46S',
    firmware: '66.86.0.15',
  });
  expect(splitAgent('PolycomVVX-VVX_450-UA/6.4.3.0866')).toEqual({
    model: 'PolycomVVX-VVX_450-UA',
    firmware: '6.4.3.0866',
  });
  expect(splitAgent('Zoiper rv2.10.20.1')).toEqual({ model: 'Zoiper rv2.10.20.1', firmware: '' });
  expect(splitAgent(null)).toEqual({ model: '(none)', firmware: '' });
});

describe('phone actions', () => {
  const k = b({
    username: '300',
    realm: 'a.test',
    original_contact: '<sip:300@192.0.2.30:5062>;expires=600',
    call_id: 'c-1',
    proxy_ip: '10.0.0.5',
    proxy_port: '5060',
    held_by: { kind: 'kamailio' },
  });
  const f = b({
    username: '400',
    realm: 'a.test',
    call_id: 'fs-1@h',
    held_by: { kind: 'freeswitch', hostname: 'fs1.test', profile: 'internal' },
  });
  it('name the proxy that holds the binding', () => {
    expect(proxyText(k)).toBe('Kamailio (proxy 10.0.0.5:5060)');
    expect(proxyText(f)).toBe('FreeSWITCH fs1.test, profile internal');
  });
  it('name the command a one-contact flush sends (contact-flush-commands.ts)', () => {
    expect(contactFlushText(k)).toBe(
      'reg_flush for 300@a.test naming Call-ID c-1 and Contact sip:300@192.0.2.30:5062',
    );
    expect(contactFlushText(f)).toBe('sofia profile internal flush_inbound_reg fs-1@h');
  });
  it('describe what was published, JSON or plain text', () => {
    expect(
      describePublished({
        exchange: 'registrar',
        routing_key: 'registration.flush.a%2Etest',
        body: JSON.stringify({
          'Event-Name': 'reg_flush',
          Realm: 'a.test',
          Username: '300',
          'Call-ID': 'c-1',
        }),
      }),
    ).toBe(
      'registrar registration.flush.a%2Etest: reg_flush Username=300 Realm=a.test Call-ID=c-1',
    );
    expect(
      describePublished({
        exchange: 'switch',
        routing_key: 'switch.notify.a%2Etest.300',
        body: JSON.stringify({
          'Event-Name': 'notify',
          Event: 'check-sync',
          Realm: 'a.test',
          Username: '300',
        }),
      }),
    ).toBe('switch switch.notify.a%2Etest.300: check-sync Username=300 Realm=a.test');
    expect(
      describePublished({
        exchange: 'TAP.Commands',
        routing_key: 'k',
        body: 'sofia profile internal flush_inbound_reg x',
      }),
    ).toBe('TAP.Commands k: sofia profile internal flush_inbound_reg x');
  });
});
