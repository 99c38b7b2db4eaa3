// Values longer than Postgres can index are refused when parsed, with their own reason
// (value_too_long), never left to fail their batch in the database (`database_rejected`).
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { FIELD_LIMITS } from './field-limits';
import { parseFreeswitchMessage } from './freeswitch-event.parser';
import { parseKazooMessage } from './kazoo-event.parser';
import type { ParseResult } from './parse-result';

const register = JSON.parse(
  readFileSync(
    path.resolve(__dirname, '../../../test/fixtures/kamailio/reg_success.register.json'),
    'utf8',
  ),
) as Record<string, unknown>;
const kazoo = (o: Record<string, unknown>) =>
  parseKazooMessage(JSON.stringify({ ...register, ...o }));
const reason = (r: ParseResult) => (r.ok ? 'accepted' : r.error.message);

const fsRegister = (o: Record<string, string>) =>
  parseFreeswitchMessage(
    JSON.stringify({
      'Event-Name': 'CUSTOM',
      'Event-Subclass': 'sofia::register',
      'Core-UUID': '6d0fbc7e-3c1a-4b8e-9a51-2f0e8d3c1b77',
      'Event-Sequence': '1',
      'Event-Date-Timestamp': String(Date.now() * 1000),
      'FreeSWITCH-Hostname': 'fs1.example.net',
      'profile-name': 'internal',
      'from-user': '1001',
      'from-host': 'acme.sip.example.net',
      contact: '<sip:1001@192.168.1.20:5062>',
      'call-id': 'c-1',
      expires: '600',
      ...o,
    }),
  );

const x = (n: number) => 'x'.repeat(n);

describe('Kazoo reg_success', () => {
  it.each([
    [
      'Realm',
      { Realm: x(10_000) },
      'value_too_long: the realm is 10000 bytes; at most 253 can be stored',
    ],
    [
      'Username',
      { Username: x(257) },
      'value_too_long: the username is 257 bytes; at most 256 can be stored',
    ],
    [
      'Contact',
      { Contact: `<sip:1001@${x(2100)}>` },
      'value_too_long: the contact URI is 2109 bytes; at most 2048 can be stored',
    ],
    [
      'Call-ID',
      { 'Call-ID': x(1025) },
      'value_too_long: the Call-ID is 1025 bytes; at most 1024 can be stored',
    ],
    [
      'Registrar-Node',
      { 'Registrar-Node': x(3000) },
      'value_too_long: the registrar node is 3000 bytes; at most 1024 can be stored',
    ],
    [
      'Proxy-Path',
      { 'Proxy-Path': `sip:${x(3000)}` },
      'value_too_long: the proxy path is 3004 bytes; at most 1024 can be stored',
    ],
    [
      'Source-IP',
      { 'Source-IP': x(3000) },
      'value_too_long: the source IP is 3000 bytes; at most 1024 can be stored',
    ],
    [
      'Account-Realm',
      { 'Custom-Channel-Vars': { 'Account-ID': 'a'.repeat(32), 'Account-Realm': x(300) } },
      'value_too_long: the realm is 300 bytes; at most 253 can be stored',
    ],
  ])('a %s too long to index is refused with its reason', (_, fields, expected) => {
    expect(reason(kazoo(fields))).toBe(expected);
  });

  it('counts bytes, not characters: the index holds UTF-8', () => {
    expect(reason(kazoo({ Username: 'é'.repeat(128) }))).toBe('accepted'); // 256 bytes
    expect(reason(kazoo({ Username: '€'.repeat(86) }))).toBe(
      'value_too_long: the username is 258 bytes; at most 256 can be stored',
    );
  });

  it('accepts every field at its limit', () => {
    const atLimit = kazoo({
      Realm: `${x(249)}.net`,
      Username: x(FIELD_LIMITS.username),
      Contact: `<sip:u@${x(FIELD_LIMITS.contactUri - 6)}>`,
      'Call-ID': x(FIELD_LIMITS.callId),
      'Registrar-Node': x(FIELD_LIMITS.registrarNode),
    });
    expect(reason(atLimit)).toBe('accepted');
  });

  it('a reg_flush with a realm or Msg-ID too long is refused too', () => {
    const flush = (o: Record<string, unknown>) =>
      parseKazooMessage(
        JSON.stringify({ 'Event-Name': 'reg_flush', Realm: 'a.example', 'Msg-ID': 'f', ...o }),
      );
    expect(reason(flush({ Realm: x(254) }))).toBe(
      'value_too_long: the realm is 254 bytes; at most 253 can be stored',
    );
    expect(reason(flush({ 'Msg-ID': x(1025) }))).toBe(
      'value_too_long: Msg-ID is longer than 1024 bytes',
    );
  });
});

describe('FreeSWITCH sofia::register', () => {
  it('a realm (from-host) or Call-ID too long to index is refused with its reason', () => {
    expect(reason(fsRegister({}))).toBe('accepted');
    expect(reason(fsRegister({ 'from-host': x(10_000) }))).toBe(
      'value_too_long: the realm is 10000 bytes; at most 253 can be stored',
    );
    expect(reason(fsRegister({ 'call-id': x(5000) }))).toBe(
      'value_too_long: the Call-ID is 5000 bytes; at most 1024 can be stored',
    );
  });
});
