// FreeSWITCH mod_amqp events from exchange `TAP.Events`: CUSTOM sofia::register, ::unregister
// and ::expire. Every header is a string. Formats: wire-formats.md §3.
import { z } from 'zod';
import { tooLong } from './field-limits';
import { deriveMac } from './mac';
import { MessageRejected, ParseResult, parseJsonObject, rejected } from './parse-result';
import type { EventKind, RegistrationEvent } from './registration-event';
import { parseContact } from './sip-contact';
import { implausibleEventTime, MAX_EXPIRES_S } from './time';
import {
  describeIssues,
  looseBool,
  looseInt,
  looseNumber,
  looseString,
  port,
  requiredString,
} from './wire-types';

const SUBCLASS_KIND: Record<string, EventKind | 'register-or-refresh'> = {
  'sofia::register': 'register-or-refresh',
  'sofia::unregister': 'unregister',
  'sofia::expire': 'expire',
};

const sofiaEvent = z.object({
  'Event-Subclass': requiredString,
  'Event-Date-Timestamp': looseNumber,
  'Core-UUID': looseString.optional(),
  'Event-Sequence': looseString.optional(),
  'FreeSWITCH-Hostname': looseString.optional(),
  'FreeSWITCH-IPv4': looseString.optional(),
  'profile-name': looseString.optional(),
  'from-user': looseString.optional(),
  'from-host': looseString.optional(),
  user: looseString.optional(),
  host: looseString.optional(),
  username: looseString.optional(),
  realm: looseString.optional(),
  'to-user': looseString.optional(),
  'to-host': looseString.optional(),
  contact: requiredString,
  'call-id': looseString.optional(),
  expires: looseInt.optional(),
  'network-ip': looseString.optional(),
  'network-port': looseInt.optional(),
  'user-agent': looseString.optional(),
  status: looseString.optional(),
  'update-reg': looseBool.optional(),
});

/** `unknown` is what FreeSWITCH reports for digest credentials when no authentication ran. */
function known(v: string | undefined): string | undefined {
  return v && v.toLowerCase() !== 'unknown' ? v : undefined;
}

export function parseFreeswitchMessage(body: Buffer | string): ParseResult {
  const obj = parseJsonObject(body);
  if (obj instanceof MessageRejected) return { ok: false, error: obj };
  const subclass = obj['Event-Subclass'];
  const mapped = typeof subclass === 'string' ? SUBCLASS_KIND[subclass] : undefined;
  if (!mapped) {
    return rejected(
      'unknown_event',
      `Event-Subclass ${JSON.stringify(subclass ?? null)} is not a sofia registration event`,
    );
  }
  const r = sofiaEvent.safeParse(obj);
  if (!r.success) return rejected('invalid_payload', describeIssues(r.error));
  const m = r.data;
  // The AOR: from-user/from-host on register and unregister, user/host on expire; the digest
  // username/realm only when nothing better was sent.
  const username = known(m['from-user']) ?? known(m.user) ?? known(m.username);
  const realm = known(m['from-host']) ?? known(m.host) ?? known(m.realm);
  if (!username || !realm) {
    return rejected(
      'invalid_payload',
      'no username (from-user/user/username) or realm (from-host/host/realm)',
    );
  }
  const contact = parseContact(m.contact);
  if (!contact)
    return rejected('invalid_contact', `contact ${JSON.stringify(m.contact)} holds no SIP URI`);
  const kind: EventKind =
    mapped === 'register-or-refresh' ? (m['update-reg'] ? 'refresh' : 'register') : mapped;
  // A register without its grant cannot be told from an unregister: not guessed.
  if (mapped === 'register-or-refresh' && m.expires === undefined)
    return rejected('invalid_payload', 'expires: required for sofia::register');
  if ((m.expires ?? 0) > MAX_EXPIRES_S && mapped === 'register-or-refresh')
    return rejected('invalid_payload', `expires ${m.expires}: more than ${MAX_EXPIRES_S} s`);
  const badTime = implausibleEventTime(m['Event-Date-Timestamp']);
  if (badTime)
    return rejected(
      'invalid_payload',
      `Event-Date-Timestamp ${m['Event-Date-Timestamp']} (µs): ${badTime}`,
    );
  // sofia::expire's expires is an absolute time, not a grant: ended bindings grant nothing.
  const expires = kind === 'register' || kind === 'refresh' ? Math.max(0, m.expires ?? 0) : 0;
  const status = m.status?.toLowerCase() ?? '';
  const event: RegistrationEvent = {
    kind: expires === 0 && (kind === 'register' || kind === 'refresh') ? 'unregister' : kind,
    origin: 'freeswitch',
    msgId:
      m['Core-UUID'] && m['Event-Sequence']
        ? `${m['Core-UUID']}:${m['Event-Sequence']}`
        : undefined,
    realm,
    username,
    originalContact: m.contact,
    contactUri: contact.uri,
    contactIp: contact.host,
    contactPort: contact.port,
    callId: m['call-id'],
    expires,
    eventUs: Math.trunc(m['Event-Date-Timestamp']),
    userAgent: m['user-agent'],
    sourceIp: m['network-ip'],
    sourcePort: port(m['network-port']),
    networkIp: m['network-ip'],
    networkPort: port(m['network-port']),
    proxyIp: m['FreeSWITCH-IPv4'],
    proxyProtocol: /\((tcp|udp|tls|wss?)/.exec(status)?.[1] ?? contact.transport,
    registrarNode: m['FreeSWITCH-Hostname'],
    fromUser: m['from-user'],
    fromHost: m['from-host'],
    toUser: m['to-user'],
    toHost: m['to-host'],
    sipInstance: contact.sipInstance,
    mac: deriveMac(contact.sipInstance, m['user-agent']),
    fsProfile: m['profile-name'],
    fsHostname: m['FreeSWITCH-Hostname'],
  };
  const long = tooLong(event);
  if (long) return { ok: false, error: long };
  return { ok: true, event };
}
