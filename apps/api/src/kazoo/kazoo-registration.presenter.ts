// A live binding as Kazoo's registrations API lists it (seed 000 + api-dialects.md A): the
// seed's keys plus proxy_path, proxy_protocol, registrar_node, source_ip/port and the
// initial/last registration times. A missing value is omitted, never "undefined".
import { GREGORIAN_OFFSET_S, kazooContact } from '@app/registrations';
import type { LiveRow } from '@app/persistence';

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

const gregorian = (d: unknown) =>
  Math.floor(new Date(d as string).getTime() / 1000) + GREGORIAN_OFFSET_S;
const str = (v: unknown) => (v === null || v === undefined ? undefined : typeof v === 'string' ? v : JSON.stringify(v));

export function toKazooItem(r: LiveRow): KazooItem {
  const item: KazooItem = {
    account_name: str(r.account_name),
    account_realm: str(r.account_realm),
    authorizing_id: str(r.authorizing_id),
    authorizing_type: str(r.authorizing_type),
    call_id: str(r.call_id),
    contact: kazooContact(r.original_contact as string),
    contact_ip: str(r.contact_ip),
    // Kazoo sends ports as strings (seed 000).
    contact_port: str(r.contact_port),
    event_timestamp: Math.floor(Number(r.event_us) / 1e6) + GREGORIAN_OFFSET_S,
    expires: Number(r.expires),
    from_host: str(r.from_host),
    from_user: str(r.from_user),
    initial_registration: gregorian(r.first_registered_at),
    last_registration: gregorian(r.last_registered_at),
    network_ip: str(r.network_ip),
    network_port: str(r.network_port),
    original_contact: str(r.original_contact),
    owner_id: str(r.owner_id),
    proxy_ip: str(r.proxy_ip),
    proxy_path: str(r.proxy_path),
    proxy_port: str(r.proxy_port),
    proxy_protocol: str(r.proxy_protocol),
    realm: str(r.realm),
    registrar_node: str(r.registrar_node),
    source_ip: str(r.source_ip),
    source_port: str(r.source_port),
    suppress_unregister_notify:
      r.suppress_unregister_notify === null ? undefined : (r.suppress_unregister_notify as boolean),
    to_host: str(r.to_host),
    to_user: str(r.to_user),
    user_agent: str(r.user_agent),
    username: str(r.username),
  };
  for (const k of Object.keys(item) as (keyof KazooItem)[])
    if (item[k] === undefined) delete item[k];
  return item;
}
