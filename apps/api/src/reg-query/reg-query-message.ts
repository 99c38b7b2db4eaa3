// kapi_registration's reg_query and its answers (2600hz/kazoo 4.3,
// core/kazoo_amqp/src/api/kapi_registration.erl: query_req/1 — optional Username, Realm,
// Fields, Count-Only; query_resp/1 — Fields, Count, Registrar-Age; query_err/1 — Registrar-Age)
// and a binding as ecallmgr_registrar:to_props/1 puts it in Fields.
import { z } from 'zod';
import type { LiveRow } from '@app/persistence';
import { toKazooItem } from '@app/registrations';
import type { Binding } from '@app/registrations';

/** kapi_registration's success keys (required + optional) and Bridge-RURI: what Fields may name. */
export const QUERYABLE_FIELDS = new Set([
  'Contact', 'Event-Timestamp', 'Expires', 'Realm', 'Username',
  'Account-DB', 'AOR', 'Authorizing-ID', 'Custom-Channel-Vars', 'First-Registration',
  'FreeSWITCH-Hostname', 'FreeSWITCH-Nodename', 'From-Host', 'From-User', 'Account-ID', 'Call-ID',
  'Network-IP', 'Network-Port', 'Original-Contact', 'Presence-Hosts', 'Profile-Name', 'Proxy-IP',
  'Proxy-Path', 'Proxy-Port', 'Proxy-Protocol', 'Register-Overwrite-Notify', 'Registrar-Node',
  'RPid', 'RUID', 'Source-IP', 'Source-Port', 'Status', 'Suppress-Unregister-Notify', 'To-Host',
  'To-User', 'User-Agent', 'Bridge-RURI',
]); // prettier-ignore

const truthy = (v: unknown) => v === true || v === 'true' || v === 1 || v === '1';

/** A reg_query as kapi_registration:query_req_v/1 accepts it, plus the Server-ID to answer. */
export const regQuerySchema = z.object({
  'Event-Category': z.literal('directory'),
  'Event-Name': z.literal('reg_query'),
  'Server-ID': z.string().min(1),
  'Msg-ID': z.string().optional(),
  Realm: z.string().min(1),
  Username: z.string().min(1).optional(),
  Fields: z
    .array(z.string())
    .optional()
    .refine((fs) => (fs ?? []).every((f) => QUERYABLE_FIELDS.has(f)), 'unknown field in Fields'),
  'Count-Only': z.unknown().optional().transform(truthy),
});
export type RegQuery = z.infer<typeof regQuerySchema>;

const gregorianOf = (v: unknown) => (typeof v === 'number' ? v : undefined);

/** Kazoo's account database name (kz_util:format_account_db/1, encoded form). */
export function accountDb(accountId: string): string {
  return `account%2F${accountId.slice(0, 2)}%2F${accountId.slice(2, 4)}%2F${accountId.slice(4)}`;
}

/** One binding as ecallmgr_registrar:to_props/1 lists it (undefined values left out). */
export function regQueryFieldsOf(
  row: LiveRow,
  opts: { expiresDeviationS?: number } = {},
): Record<string, unknown> {
  const i = toKazooItem(
    row as unknown as Binding,
    { name: row.accountName, realm: row.accountRealm },
    { expiresDeviationS: opts.expiresDeviationS },
  );
  const props: Record<string, unknown> = {
    Username: i.username,
    Realm: i.realm,
    'User-Agent': i.user_agent,
    'Call-ID': i.call_id,
    'From-User': i.from_user,
    'From-Host': i.from_host,
    'To-User': i.to_user,
    'To-Host': i.to_host,
    'Network-IP': i.network_ip,
    'Network-Port': i.network_port,
    // to_props/1: Event-Timestamp is the last registration (Gregorian seconds).
    'Event-Timestamp': gregorianOf(i.last_registration),
    Contact: i.contact,
    'Original-Contact': i.original_contact,
    'Proxy-Path': i.proxy_path,
    'Proxy-IP': i.proxy_ip,
    'Proxy-Port': i.proxy_port,
    'Proxy-Protocol': i.proxy_protocol,
    Expires: i.expires,
    'Account-ID': row.accountId ?? undefined,
    'Account-DB': row.accountId ? accountDb(row.accountId) : undefined,
    'Account-Realm': i.account_realm,
    'Account-Name': i.account_name,
    'Authorizing-ID': i.authorizing_id,
    'Authorizing-Type': i.authorizing_type,
    'Suppress-Unregister-Notify': i.suppress_unregister_notify,
    'Owner-ID': i.owner_id,
    'Registrar-Node': i.registrar_node,
    'Initial-Registration': gregorianOf(i.initial_registration),
    'Last-Registration': gregorianOf(i.last_registration),
    'Source-IP': i.source_ip,
    'Source-Port': i.source_port,
  };
  for (const k of Object.keys(props)) if (props[k] === undefined) delete props[k];
  return props;
}

/** ecallmgr_registrar:filter/2: only the asked Fields (all when none were asked). */
export function filterFields(
  props: Record<string, unknown>,
  fields: string[] | undefined,
): Record<string, unknown> {
  if (!fields || fields.length === 0) return props;
  const out: Record<string, unknown> = {};
  for (const f of fields) if (props[f] !== undefined) out[f] = props[f];
  return out;
}
