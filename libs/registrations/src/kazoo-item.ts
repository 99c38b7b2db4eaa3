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

export interface KazooItemOptions {
  /** contact_port / proxy_port as strings (Kazoo before 4.1). */
  portsAsStrings?: boolean;
  /**
   * Added to a non-zero `expires`, as ecallmgr_util:maybe_add_expires_deviation/1 adds
   * ecallmgr's expires_deviation_time (180 s by default) to what Kamailio granted.
   */
  expiresDeviationS?: number;
}

/**
 * Ports as Kazoo 4.1+ lists them: contact_port an integer (cb_registrations:
 * normalize_registration/1, maybe_default_port/3), proxy_port an integer (ecallmgr_registrar
 * reads it with kz_json:get_integer_value), network_port and source_port as received (strings).
 * `portsAsStrings` gives the older strings for clients that compare them as text.
 */
export function toKazooItem(
  b: Binding,
  account?: { name?: string | null; realm?: string | null },
  opts: KazooItemOptions = {},
): KazooItem {
  const port = opts.portsAsStrings ? String : Number;
  // Only known values are set, in KAZOO_ITEM_KEYS order (this runs for every item of every
  // list: plain assignments, no helper closure, no `delete`). `!= null` skips both undefined
  // and the NULLs of a row read straight from the database (LiveRow).
  const item: KazooItem = {};
  if (account?.name != null) item.account_name = account.name;
  if (account?.realm != null) item.account_realm = account.realm;
  if (b.authorizingId != null) item.authorizing_id = b.authorizingId;
  if (b.authorizingType != null) item.authorizing_type = b.authorizingType;
  if (b.callId != null) item.call_id = b.callId;
  item.contact = kazooContact(b.originalContact);
  if (b.contactIp != null) item.contact_ip = b.contactIp;
  if (b.contactPort != null) item.contact_port = port(b.contactPort);
  item.event_timestamp = gregorian(b.eventUs);
  item.expires = b.expires > 0 ? b.expires + (opts.expiresDeviationS ?? 0) : b.expires;
  if (b.fromHost != null) item.from_host = b.fromHost;
  if (b.fromUser != null) item.from_user = b.fromUser;
  item.initial_registration = gregorian(b.firstRegisteredUs);
  item.last_registration = gregorian(b.lastRegisteredUs);
  if (b.networkIp != null) item.network_ip = b.networkIp;
  if (b.networkPort != null) item.network_port = String(b.networkPort);
  item.original_contact = b.originalContact;
  if (b.ownerId != null) item.owner_id = b.ownerId;
  if (b.proxyIp != null) item.proxy_ip = b.proxyIp;
  if (b.proxyPath != null) item.proxy_path = b.proxyPath;
  if (b.proxyPort != null) item.proxy_port = port(b.proxyPort);
  if (b.proxyProtocol != null) item.proxy_protocol = b.proxyProtocol;
  item.realm = b.realm;
  if (b.registrarNode != null) item.registrar_node = b.registrarNode;
  if (b.sourceIp != null) item.source_ip = b.sourceIp;
  if (b.sourcePort != null) item.source_port = String(b.sourcePort);
  if (b.suppressUnregisterNotify != null)
    item.suppress_unregister_notify = b.suppressUnregisterNotify;
  if (b.toHost != null) item.to_host = b.toHost;
  if (b.toUser != null) item.to_user = b.toUser;
  if (b.userAgent != null) item.user_agent = b.userAgent;
  item.username = b.username;
  return item;
}
