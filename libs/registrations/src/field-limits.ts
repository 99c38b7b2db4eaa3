// How long the values that Postgres indexes may be. The columns are `text`, but an index entry
// must fit in a third of a page (btree: 2,704 bytes; GIN: 2,712): a longer realm, username or
// contact URI (registrations_binding, registrations_live_account: account id + username + realm
// + contact URI), Call-ID (registrations_live_call) or lookup key (registrations_live_lookup:
// source/proxy IP, Proxy-Path host, Registrar-Node) makes the write fail. Such a message is
// refused when parsed, with its own reason, instead of failing its batch in the database.
// The realm is a domain name (at most 253 characters, RFC 1035 §2.3.4); the rest leaves the
// sum of one index entry under the limit with room to spare.
import type { FlushCommand, RegistrationEvent } from './registration-event';
import { MessageRejected } from './parse-result';

/** Bytes (UTF-8) at most, by field of the domain event. */
export const FIELD_LIMITS = {
  realm: 253,
  username: 256,
  contactUri: 2048,
  callId: 1024,
  sourceIp: 1024,
  proxyIp: 1024,
  proxyPath: 1024,
  registrarNode: 1024,
} as const;

/** How each field is named in the reason (both proxies' formats map onto these). */
const NAMES: Record<keyof typeof FIELD_LIMITS, string> = {
  realm: 'the realm',
  username: 'the username',
  contactUri: 'the contact URI',
  callId: 'the Call-ID',
  sourceIp: 'the source IP',
  proxyIp: 'the proxy IP',
  proxyPath: 'the proxy path',
  registrarNode: 'the registrar node',
};

/** The first field too long to be stored, as a rejection (`value_too_long`); else undefined. */
export function tooLong(
  e: Partial<Pick<RegistrationEvent, keyof typeof FIELD_LIMITS>> | FlushCommand,
): MessageRejected | undefined {
  for (const [field, limit] of Object.entries(FIELD_LIMITS) as [
    keyof typeof FIELD_LIMITS,
    number,
  ][]) {
    const v = (e as Partial<Record<string, unknown>>)[field];
    // Cheap first: a string of n UTF-16 units holds at most 3n UTF-8 bytes.
    if (typeof v !== 'string' || v.length * 3 <= limit) continue;
    const bytes = Buffer.byteLength(v, 'utf8');
    if (bytes > limit)
      return new MessageRejected(
        'value_too_long',
        `${NAMES[field]} is ${bytes} bytes; at most ${limit} can be stored`,
      );
  }
  return undefined;
}
