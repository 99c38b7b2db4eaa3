// Kazoo `directory` messages from exchange `registrar`: `reg_success` (register, refresh,
// unregister) and `reg_flush` (a flush issued by any system). Formats: wire-formats.md §2.
import { z } from 'zod';
import { tooLong } from './field-limits';
import { deriveMac } from './mac';
import { MessageRejected, ParseResult, parseJsonObject, rejected } from './parse-result';
import type { EventKind, FlushCommand, RegistrationEvent } from './registration-event';
import { parseContact } from './sip-contact';
import { GREGORIAN_OFFSET_S, implausibleEventTime, MAX_EXPIRES_S } from './time';
import {
  describeIssues,
  looseBool,
  looseInt,
  looseNumber,
  looseString,
  port,
  requiredString,
} from './wire-types';

const customChannelVars = z
  .object({
    'Account-ID': looseString.optional(),
    'Account-Name': looseString.optional(),
    'Account-Realm': looseString.optional(),
    'Authorizing-ID': looseString.optional(),
    'Authorizing-Type': looseString.optional(),
    'Owner-ID': looseString.optional(),
    'Suppress-Unregister-Notifications': looseBool.optional(),
  })
  .partial();

const regSuccess = z.object({
  Realm: requiredString,
  Username: requiredString,
  Contact: requiredString,
  Expires: looseInt,
  'Event-Timestamp': looseNumber,
  'Msg-ID': looseString.optional(),
  Status: looseString.optional(),
  'First-Registration': looseBool.optional(),
  'Call-ID': looseString.optional(),
  'User-Agent': looseString.optional(),
  'Original-Contact': looseString.optional(),
  'Source-IP': looseString.optional(),
  'Source-Port': looseInt.optional(),
  'Network-IP': looseString.optional(),
  'Network-Port': looseInt.optional(),
  'Proxy-Path': looseString.optional(),
  'Proxy-IP': looseString.optional(),
  'Proxy-Port': looseInt.optional(),
  'Proxy-Protocol': looseString.optional(),
  'Registrar-Node': looseString.optional(),
  Node: looseString.optional(),
  'From-User': looseString.optional(),
  'From-Host': looseString.optional(),
  'To-User': looseString.optional(),
  'To-Host': looseString.optional(),
  'Account-ID': looseString.optional(),
  'Authorizing-ID': looseString.optional(),
  'Suppress-Unregister-Notify': looseBool.optional(),
  'Custom-Channel-Vars': customChannelVars.optional(),
});

const regFlush = z.object({
  Realm: requiredString,
  Username: looseString.optional(),
  'App-Name': looseString.optional(),
  'Msg-ID': looseString.optional(),
  // Our extension (libs/messaging regFlush): one contact of the AOR.
  'Call-ID': looseString.optional(),
  Contact: looseString.optional(),
});

/** App-Name this service puts on the flushes it publishes, so that it skips their echo. */
export const OUR_APP_NAME = 'registrations-service';

function kindOf(
  status: string | undefined,
  expires: number,
  first: boolean | undefined,
): EventKind {
  const s = status?.toLowerCase();
  if (expires <= 0 || s === 'unregistered') return 'unregister';
  if (s === 'expired') return 'expire';
  return first === false ? 'refresh' : 'register';
}

/** A reg_flush's `Contact`: the URI itself (as stored), or inside `<…>` if it came so. */
function contactUriOf(raw: string | undefined): string | undefined {
  const v = raw?.trim();
  if (!v) return undefined;
  const m = /^<([^>]*)>$/.exec(v);
  return (m ? m[1].trim() : v) || undefined;
}

export function parseKazooMessage(body: Buffer | string): ParseResult {
  const obj = parseJsonObject(body);
  if (obj instanceof MessageRejected) return { ok: false, error: obj };
  const name = obj['Event-Name'];
  if (name === 'reg_flush') {
    const f = regFlush.safeParse(obj);
    if (!f.success) return rejected('invalid_payload', describeIssues(f.error));
    const username = f.data.Username || undefined;
    // As the Kamailio route does (test/kamailio/kamailio.cfg.tmpl, reg-flush event_route and
    // route[FLUSH_CONTACT]): Call-ID and Contact count only with a Username, and a Call-ID
    // wins over a Contact.
    const callId = (username && f.data['Call-ID']) || undefined;
    const contactUri = (username && !callId && contactUriOf(f.data.Contact)) || undefined;
    const flush: FlushCommand = {
      kind: 'flush',
      realm: f.data.Realm,
      username,
      ...(callId ? { callId } : {}),
      ...(contactUri ? { contactUri } : {}),
      msgId: f.data['Msg-ID'] || undefined,
      ours: f.data['App-Name'] === OUR_APP_NAME,
    };
    // (A Msg-ID is the key of applied_flushes: it must be indexable too.)
    const long =
      tooLong(flush) ??
      (flush.msgId && Buffer.byteLength(flush.msgId) > 1024
        ? new MessageRejected('value_too_long', 'Msg-ID is longer than 1024 bytes')
        : undefined);
    if (long) return { ok: false, error: long };
    return { ok: true, event: flush };
  }
  if (name !== 'reg_success') {
    return rejected(
      'unknown_event',
      `Event-Name ${JSON.stringify(name ?? null)} is not reg_success or reg_flush`,
    );
  }
  const r = regSuccess.safeParse(obj);
  if (!r.success) return rejected('invalid_payload', describeIssues(r.error));
  const m = r.data;
  const contact = parseContact(m.Contact);
  if (!contact)
    return rejected('invalid_contact', `Contact ${JSON.stringify(m.Contact)} holds no SIP URI`);
  const ccv = m['Custom-Channel-Vars'] ?? {};
  // Kazoo account ids are 32 hex digits; anything else is ignored and the realm decides.
  const rawAccountId = (ccv['Account-ID'] ?? m['Account-ID'])?.toLowerCase();
  const accountId = rawAccountId && /^[0-9a-f]{32}$/.test(rawAccountId) ? rawAccountId : undefined;
  const ts = m['Event-Timestamp'];
  // Kamailio sends Unix seconds; tolerate Gregorian seconds (Kazoo's own apps), milliseconds or
  // microseconds from other producers.
  const eventUs =
    ts > 1e14
      ? Math.trunc(ts)
      : ts > 1e11
        ? Math.trunc(ts * 1000)
        : ts >= GREGORIAN_OFFSET_S
          ? Math.trunc((ts - GREGORIAN_OFFSET_S) * 1e6)
          : Math.trunc(ts * 1e6);
  const badTime = implausibleEventTime(eventUs);
  if (badTime) return rejected('invalid_payload', `Event-Timestamp ${ts}: ${badTime}`);
  if (m.Expires > MAX_EXPIRES_S)
    return rejected('invalid_payload', `Expires ${m.Expires}: more than ${MAX_EXPIRES_S} s`);
  // Whole seconds (or milliseconds): the registration happened up to one unit later.
  const clockSlackUs = ts > 1e14 || !Number.isInteger(ts) ? 0 : ts > 1e11 ? 999 : 999_999;
  const kind = kindOf(m.Status, m.Expires, m['First-Registration']);
  const event: RegistrationEvent = {
    kind,
    origin: 'kazoo',
    msgId: m['Msg-ID'],
    clockSlackUs,
    realm: m.Realm,
    username: m.Username,
    originalContact: m['Original-Contact'] ?? m.Contact,
    contactUri: contact.uri,
    contactIp: contact.host,
    contactPort: contact.port,
    callId: m['Call-ID'],
    // An unregister or expire grants nothing, whatever Expires says (Status decides the kind).
    expires: kind === 'register' || kind === 'refresh' ? Math.max(0, m.Expires) : 0,
    eventUs,
    userAgent: m['User-Agent'],
    sourceIp: m['Source-IP'],
    sourcePort: port(m['Source-Port']),
    networkIp: m['Network-IP'],
    networkPort: port(m['Network-Port']),
    proxyPath: m['Proxy-Path'],
    proxyIp: m['Proxy-IP'],
    proxyPort: port(m['Proxy-Port']),
    proxyProtocol: m['Proxy-Protocol']?.toLowerCase(),
    registrarNode: m['Registrar-Node'] ?? m.Node,
    fromUser: m['From-User'],
    fromHost: m['From-Host'],
    toUser: m['To-User'],
    toHost: m['To-Host'],
    account: accountId
      ? { id: accountId, name: ccv['Account-Name'], realm: ccv['Account-Realm'] }
      : undefined,
    authorizingId: ccv['Authorizing-ID'] ?? m['Authorizing-ID'],
    authorizingType: ccv['Authorizing-Type'],
    ownerId: ccv['Owner-ID'],
    suppressUnregisterNotify:
      m['Suppress-Unregister-Notify'] ?? ccv['Suppress-Unregister-Notifications'],
    sipInstance: contact.sipInstance,
    mac: deriveMac(contact.sipInstance, m['User-Agent']),
  };
  const long =
    tooLong(event) ??
    (accountId && ccv['Account-Realm'] !== undefined
      ? tooLong({ realm: ccv['Account-Realm'] }) // accounts.realm_key is indexed too
      : undefined);
  if (long) return { ok: false, error: long };
  return { ok: true, event };
}
