// A binding as Kazoo's registrations API lists it (seed 000 + api-dialects.md A): the seed's
// keys plus proxy_path, proxy_protocol, registrar_node, source_ip/port and the initial/last
// registration times (Gregorian seconds). A missing value is omitted, never "undefined".
// Used by the Kazoo API and by the change feed, so both show a binding the same way; the list
// has Postgres build the same items from the same field table.
import type { Binding } from './binding';
import { kazooContact } from './sip-contact';
import { GREGORIAN_OFFSET_S } from './time';

/** How an item's value comes from the binding: as it is, as a string, Gregorian seconds, contact without `<>`. */
export type KazooItemForm = 'value' | 'string' | 'gregorian' | 'contact';

export interface KazooItemField {
  key: string;
  /** The binding's field, or the account's name or realm. */
  from: keyof Binding | 'accountName' | 'accountRealm';
  form: KazooItemForm;
}

const f = (key: string, from: KazooItemField['from'], form: KazooItemForm = 'value') =>
  ({ key, from, form }) as const;

/**
 * The item, key by key in the order it is listed, once for every rendering: toKazooItem here,
 * and the SQL that builds items in Postgres for the list (libs/persistence, kazoo-item.sql.ts).
 * Kazoo gives ports as strings and times in Gregorian seconds.
 */
export const KAZOO_ITEM_FIELDS = [
  f('account_name', 'accountName'),
  f('account_realm', 'accountRealm'),
  f('authorizing_id', 'authorizingId'),
  f('authorizing_type', 'authorizingType'),
  f('call_id', 'callId'),
  f('contact', 'originalContact', 'contact'),
  f('contact_ip', 'contactIp'),
  f('contact_port', 'contactPort', 'string'),
  f('event_timestamp', 'eventUs', 'gregorian'),
  f('expires', 'expires'),
  f('from_host', 'fromHost'),
  f('from_user', 'fromUser'),
  f('initial_registration', 'firstRegisteredUs', 'gregorian'),
  f('last_registration', 'lastRegisteredUs', 'gregorian'),
  f('network_ip', 'networkIp'),
  f('network_port', 'networkPort', 'string'),
  f('original_contact', 'originalContact'),
  f('owner_id', 'ownerId'),
  f('proxy_ip', 'proxyIp'),
  f('proxy_path', 'proxyPath'),
  f('proxy_port', 'proxyPort', 'string'),
  f('proxy_protocol', 'proxyProtocol'),
  f('realm', 'realm'),
  f('registrar_node', 'registrarNode'),
  f('source_ip', 'sourceIp'),
  f('source_port', 'sourcePort', 'string'),
  f('suppress_unregister_notify', 'suppressUnregisterNotify'),
  f('to_host', 'toHost'),
  f('to_user', 'toUser'),
  f('user_agent', 'userAgent'),
  f('username', 'username'),
] as const satisfies readonly KazooItemField[];

export const KAZOO_ITEM_KEYS = KAZOO_ITEM_FIELDS.map((x) => x.key);

export type KazooItem = Partial<
  Record<(typeof KAZOO_ITEM_FIELDS)[number]['key'], string | number | boolean>
>;

const gregorian = (us: number) => Math.floor(us / 1e6) + GREGORIAN_OFFSET_S;

/** A binding as a Kazoo list item: KAZOO_ITEM_FIELDS in order, unknown values left out. */
export function toKazooItem(
  b: Binding,
  account?: { name?: string | null; realm?: string | null },
): KazooItem {
  const item: Record<string, string | number | boolean> = {};
  for (const { key, from, form } of KAZOO_ITEM_FIELDS) {
    // `!= null` skips both undefined and the NULLs of a row read straight from the database.
    const v =
      from === 'accountName' ? account?.name : from === 'accountRealm' ? account?.realm : b[from];
    if (v == null) continue;
    item[key] =
      form === 'value'
        ? v
        : form === 'string'
          ? String(v)
          : form === 'gregorian'
            ? gregorian(v as number)
            : kazooContact(v as string);
  }
  return item;
}
