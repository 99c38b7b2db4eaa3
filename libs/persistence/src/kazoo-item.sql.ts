// The Kazoo list item built by Postgres: KAZOO_ITEM_FIELDS rendered as SQL, so that a list
// page comes back as one JSON text per binding, spliced into the response as it is. Node then
// neither parses some 40 columns per row nor serialises the items (bench/api: that was most of
// a list request's CPU). row_to_json writes compact JSON in the fields' order, as
// JSON.stringify(toKazooItem(…)) does; test/api/kazoo-item-sql.e2e-spec.ts holds them equal.
import { GREGORIAN_OFFSET_S, KAZOO_ITEM_FIELDS, KazooItemField } from '@app/registrations';
import { BINDING_COLUMNS } from './binding-columns';

function valueSql(field: KazooItemField, r: string, a: string): string {
  if (field.from === 'accountName') return `${a}.name`;
  if (field.from === 'accountRealm') return `${a}.realm`;
  const col = BINDING_COLUMNS.find((c) => c.field === field.from);
  if (!col) throw new Error(`no column for ${field.from}`);
  const v = `${r}.${col.name}`;
  switch (field.form) {
    case 'value':
      return v;
    case 'string':
      return `${v}::text`;
    case 'contact':
      return `translate(${v}, '<>', '')`;
    case 'gregorian':
      // Whole seconds, rounded down (µs in event_us, timestamptz elsewhere).
      return col.kind === 'us'
        ? `(floor(extract(epoch from ${v}))::bigint + ${GREGORIAN_OFFSET_S})`
        : `(${v} / 1000000 + ${GREGORIAN_OFFSET_S})`;
  }
}

/** A SQL expression: the item of the binding `r` (registrations) of account `a`, as JSON text. */
export function kazooItemJsonSql(r: string, a: string): string {
  const columns = KAZOO_ITEM_FIELDS.map((f) => `${valueSql(f, r, a)} AS ${f.key}`).join(', ');
  return `json_strip_nulls(row_to_json((SELECT i FROM (SELECT ${columns}) i)))::text`;
}
