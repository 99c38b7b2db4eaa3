// A binding as Kazoo's registrations API lists it (seed 000 + api-dialects.md A): the seed's
// keys plus proxy_path, proxy_protocol, registrar_node, source_ip/port and the initial/last
// registration times (Gregorian seconds). A missing value is omitted, never "undefined".
// Used by the Kazoo API and by the change feed, so both show a binding the same way.
import type { Binding } from './binding';
import { kazooContact } from './sip-contact';
import { GREGORIAN_OFFSET_S } from './time';

export const KAZOO_ITEM_KEYS = [
  'account_name',
  'account_realm',
  'authorizing_id',
  'authorizing_type',
  'call_id',
  'contact',
  'contact_ip',
  'contact_port',
  'event_timestamp',
  'expires',
  'from_host',
  'from_user',
  'initial_registration',
  'last_registration',
  'network_ip',
  'network_port',
  'original_contact',
  'owner_id',
  'proxy_ip',
  'proxy_path',
  'proxy_port',
  'proxy_protocol',
  'realm',
  'registrar_node',
  'source_ip',
  'source_port',
  'suppress_unregister_notify',
  'to_host',
  'to_user',
  'user_agent',
  'username',
] as const;

export type KazooItem = Partial<
  Record<(typeof KAZOO_ITEM_KEYS)[number], string | number | boolean>
>;

const gregorian = (us: number) => Math.floor(us / 1e6) + GREGORIAN_OFFSET_S;
// Kazoo sends ports as strings (seed 000).
const portString = (p: number | undefined) => (p === undefined ? undefined : String(p));

export function toKazooItem(
  b: Binding,
  account?: { name?: string | null; realm?: string | null },
): KazooItem {
  // Only defined values are set (no `delete` afterwards: it leaves V8 with slow objects, and
  // this runs for every item of every list).
  const item: KazooItem = {};
  const set = (k: keyof KazooItem, v: string | number | boolean | null | undefined) => {
    if (v !== undefined && v !== null) item[k] = v;
  };
  set('account_name', account?.name);
  set('account_realm', account?.realm);
  set('authorizing_id', b.authorizingId);
  set('authorizing_type', b.authorizingType);
  set('call_id', b.callId);
  set('contact', kazooContact(b.originalContact));
  set('contact_ip', b.contactIp);
  set('contact_port', portString(b.contactPort));
  set('event_timestamp', gregorian(b.eventUs));
  set('expires', b.expires);
  set('from_host', b.fromHost);
  set('from_user', b.fromUser);
  set('initial_registration', gregorian(b.firstRegisteredUs));
  set('last_registration', gregorian(b.lastRegisteredUs));
  set('network_ip', b.networkIp);
  set('network_port', portString(b.networkPort));
  set('original_contact', b.originalContact);
  set('owner_id', b.ownerId);
  set('proxy_ip', b.proxyIp);
  set('proxy_path', b.proxyPath);
  set('proxy_port', portString(b.proxyPort));
  set('proxy_protocol', b.proxyProtocol);
  set('realm', b.realm);
  set('registrar_node', b.registrarNode);
  set('source_ip', b.sourceIp);
  set('source_port', portString(b.sourcePort));
  set('suppress_unregister_notify', b.suppressUnregisterNotify);
  set('to_host', b.toHost);
  set('to_user', b.toUser);
  set('user_agent', b.userAgent);
  set('username', b.username);
  return item;
}
