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
  const item: KazooItem = {
    account_name: account?.name ?? undefined,
    account_realm: account?.realm ?? undefined,
    authorizing_id: b.authorizingId,
    authorizing_type: b.authorizingType,
    call_id: b.callId,
    contact: kazooContact(b.originalContact),
    contact_ip: b.contactIp,
    contact_port: portString(b.contactPort),
    event_timestamp: gregorian(b.eventUs),
    expires: b.expires,
    from_host: b.fromHost,
    from_user: b.fromUser,
    initial_registration: gregorian(b.firstRegisteredUs),
    last_registration: gregorian(b.lastRegisteredUs),
    network_ip: b.networkIp,
    network_port: portString(b.networkPort),
    original_contact: b.originalContact,
    owner_id: b.ownerId,
    proxy_ip: b.proxyIp,
    proxy_path: b.proxyPath,
    proxy_port: portString(b.proxyPort),
    proxy_protocol: b.proxyProtocol,
    realm: b.realm,
    registrar_node: b.registrarNode,
    source_ip: b.sourceIp,
    source_port: portString(b.sourcePort),
    suppress_unregister_notify: b.suppressUnregisterNotify,
    to_host: b.toHost,
    to_user: b.toUser,
    user_agent: b.userAgent,
    username: b.username,
  };
  for (const k of Object.keys(item) as (keyof KazooItem)[])
    if (item[k] === undefined) delete item[k];
  return item;
}
