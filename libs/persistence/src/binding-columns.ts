// The one mapping between the domain Binding and the columns of `registrations` and
// `registration_history`. Every SQL statement that moves bindings is generated from it, so a
// new field is added here (and in a migration) and nowhere else.
import { Binding, copyBinding } from '@app/registrations';

type Kind = 'text' | 'int' | 'bigint' | 'bool' | 'us';

interface Column {
  name: string;
  kind: Kind;
  field: keyof Binding;
}

const c = (name: string, kind: Kind, field: keyof Binding): Column => ({ name, kind, field });

/** Every binding column except `id`, in table order. `us` fields are timestamptz in SQL. */
export const BINDING_COLUMNS: readonly Column[] = [
  c('realm_key', 'text', 'realmKey'),
  c('username_key', 'text', 'usernameKey'),
  c('contact_uri', 'text', 'contactUri'),
  c('account_id', 'text', 'accountId'),
  c('origin', 'text', 'origin'),
  c('realm', 'text', 'realm'),
  c('username', 'text', 'username'),
  c('original_contact', 'text', 'originalContact'),
  c('contact_ip', 'text', 'contactIp'),
  c('contact_port', 'int', 'contactPort'),
  c('call_id', 'text', 'callId'),
  c('user_agent', 'text', 'userAgent'),
  c('expires', 'int', 'expires'),
  c('event_us', 'bigint', 'eventUs'),
  // Space-separated, newest first (Binding.recentMsgIds); the column keeps its first name.
  c('last_msg_id', 'text', 'recentMsgIds'),
  c('first_registered_at', 'us', 'firstRegisteredUs'),
  c('last_registered_at', 'us', 'lastRegisteredUs'),
  c('expires_at', 'us', 'expiresUs'),
  c('refresh_count', 'int', 'refreshCount'),
  c('ended_at', 'us', 'endedUs'),
  c('end_reason', 'text', 'endReason'),
  c('source_ip', 'text', 'sourceIp'),
  c('source_port', 'int', 'sourcePort'),
  c('network_ip', 'text', 'networkIp'),
  c('network_port', 'int', 'networkPort'),
  c('proxy_path', 'text', 'proxyPath'),
  c('proxy_ip', 'text', 'proxyIp'),
  c('proxy_port', 'int', 'proxyPort'),
  c('proxy_protocol', 'text', 'proxyProtocol'),
  c('registrar_node', 'text', 'registrarNode'),
  c('from_user', 'text', 'fromUser'),
  c('from_host', 'text', 'fromHost'),
  c('to_user', 'text', 'toUser'),
  c('to_host', 'text', 'toHost'),
  c('authorizing_id', 'text', 'authorizingId'),
  c('authorizing_type', 'text', 'authorizingType'),
  c('owner_id', 'text', 'ownerId'),
  c('suppress_unregister_notify', 'bool', 'suppressUnregisterNotify'),
  c('sip_instance', 'text', 'sipInstance'),
  c('mac', 'text', 'mac'),
  c('fs_profile', 'text', 'fsProfile'),
  c('fs_hostname', 'text', 'fsHostname'),
];

const KEY_COLUMNS = ['realm_key', 'username_key', 'contact_uri'];

const SQL_TYPE: Record<Kind, string> = {
  text: 'text',
  int: 'int',
  bigint: 'bigint',
  bool: 'boolean',
  us: 'bigint',
};

export const COLUMN_NAMES = BINDING_COLUMNS.map((col) => col.name).join(', ');

/** `AS t(col type, …)` for json_to_recordset over rows made by toRecord. */
export const RECORDSET_TYPES = BINDING_COLUMNS.map(
  (col) => `${col.name} ${SQL_TYPE[col.kind]}`,
).join(', ');

/** Select-list turning a recordset row (alias `t`) into column values. */
export function recordsetSelect(alias: string): string {
  return BINDING_COLUMNS.map((col) =>
    col.kind === 'us' ? `to_timestamp(${alias}.${col.name} / 1e6)` : `${alias}.${col.name}`,
  ).join(', ');
}

/** `col = <alias>."field", …` for every non-key column: an UPDATE from a BINDING_RECORDSET row. */
export function bindingUpdateSet(alias: string): string {
  return BINDING_COLUMNS.filter((col) => !KEY_COLUMNS.includes(col.name))
    .map((col) =>
      col.kind === 'us'
        ? `${col.name} = to_timestamp(${alias}."${col.field}" / 1e6)`
        : `${col.name} = ${alias}."${col.field}"`,
    )
    .join(', ');
}

/** A binding as a plain object keyed by column name (for JSON.stringify into json_to_recordset). */
export function toRecord(b: Binding): Record<string, unknown> {
  const rec: Record<string, unknown> = {};
  for (const col of BINDING_COLUMNS) {
    const v = b[col.field];
    if (v !== undefined) rec[col.name] = v;
  }
  return rec;
}

// Reads and the ingest's writes speak the domain's field names in SQL, so that bindings go to and come
// from Postgres without a per-field mapping in JS: JSON.stringify(bindings) feeds
// json_to_recordset directly, and rows come back with the Binding's keys and number types.

/** `AS t("realmKey" text, …)` for json_to_recordset over JSON.stringify(bindings). */
export const BINDING_RECORDSET = BINDING_COLUMNS.map(
  (col) => `"${col.field}" ${SQL_TYPE[col.kind]}`,
).join(', ');

/** Select-list turning a BINDING_RECORDSET row (alias) into column values, in COLUMN_NAMES order. */
export function bindingRecordsetSelect(alias: string): string {
  return BINDING_COLUMNS.map((col) =>
    col.kind === 'us' ? `to_timestamp(${alias}."${col.field}" / 1e6)` : `${alias}."${col.field}"`,
  ).join(', ');
}

/**
 * What the planner reads of a stored binding that the batch only refreshes or leaves alone: a
 * binding that ends or changes otherwise is written back whole, so needs every field.
 */
export const PLANNING_FIELDS: ReadonlySet<keyof Binding> = new Set<keyof Binding>([
  'realmKey',
  'usernameKey',
  'contactUri',
  'accountId',
  'callId',
  'eventUs',
  'recentMsgIds',
  'firstRegisteredUs',
  'expiresUs',
  'refreshCount',
  'endReason',
]);

/**
 * Select-list reading a stored row (alias) with the Binding's keys; numbers as float8 (exact
 * below 2^53). With `wholeIf` (a SQL condition), fields outside PLANNING_FIELDS are read only
 * where it holds (NULL elsewhere): each field read costs the ingest a string per row.
 */
export function bindingSelect(alias: string, wholeIf?: string): string {
  return [
    `${alias}.id::float8 AS id`,
    ...BINDING_COLUMNS.map((col) => {
      const value =
        col.kind === 'us'
          ? `(extract(epoch from ${alias}.${col.name}) * 1000000)::float8`
          : col.kind === 'bigint'
            ? `${alias}.${col.name}::float8`
            : `${alias}.${col.name}`;
      return wholeIf && !PLANNING_FIELDS.has(col.field)
        ? `CASE WHEN ${wholeIf} THEN ${value} END AS "${col.field}"`
        : `${value} AS "${col.field}"`;
    }),
  ].join(', ');
}

/** A row read with bindingSelect as a Binding (SQL NULL becomes undefined). */
export function fromBindingRow(row: Record<string, unknown>): Binding {
  const b = copyBinding(row as unknown as Binding) as unknown as Record<string, unknown>;
  for (const k in b) if (b[k] === null) b[k] = undefined;
  return b as unknown as Binding;
}
