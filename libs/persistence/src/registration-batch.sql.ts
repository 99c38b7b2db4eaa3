// The two statements of an ingest batch (RegistrationStore.applyBatch): the pre-read of every
// touched AOR, and the write of the plan (bindings, history, extensions and, when the change
// feed is on, the outbox) as ONE statement, so that a batch costs two round trips and needs no
// explicit transaction: the statement is atomic, and undoes itself on a write conflict.
import { outboxCtes } from './change-outbox';
import {
  BINDING_RECORDSET,
  bindingRecordsetSelect,
  bindingSelect,
  bindingUpdateSet,
  COLUMN_NAMES,
} from './binding-columns';

/** SQLSTATE raised by registrations_check_written (migration 1796000000000). */
export const WRITE_CONFLICT_SQLSTATE = 'RGW01';

// On the first AOR's rows only: a JSON value is parsed again for every row that carries it.
const REALM_ACCOUNTS = `CASE WHEN k.n = 1 THEN (SELECT json_object_agg(realm_key, id) FROM (
    SELECT DISTINCT ON (realm_key) realm_key, id FROM accounts
     WHERE realm_key = ANY($2::text[]) ORDER BY realm_key, created_at) owners) END AS "realmAccounts"`;

/**
 * $1: the batch's AORs as JSON AorRef[]; $2: realm keys needing an account. One row per stored
 * binding of those AORs (with its xmin as rowVersion; every field if the AOR is marked whole or
 * the binding expired by until_us, else the PLANNING_FIELDS only), and one row with a NULL id per AOR that has none; the first AOR's rows
 * carry the realm → account map for $2.
 */
export const PREREAD_SQL = `
  SELECT ${bindingSelect('l', 'w.whole')}, l.xmin::text AS "rowVersion",
         k.realm_key AS "aorRealm", k.username_key AS "aorUser", ${REALM_ACCOUNTS}
    FROM ROWS FROM (json_to_recordset($1::json) AS (realm_key text, username_key text, whole boolean, until_us bigint))
         WITH ORDINALITY AS k(realm_key, username_key, whole, until_us, n)
    LEFT JOIN registrations l USING (realm_key, username_key)
   CROSS JOIN LATERAL (  -- once per row (OFFSET 0: not inlined into every column's CASE)
     SELECT k.whole OR (l.ended_at IS NULL AND l.expires_at <= to_timestamp(k.until_us / 1e6::float8))
     OFFSET 0) AS w(whole)`;

/**
 * The same, every field of every row, locking the rows read (FOR UPDATE cannot apply to an
 * outer join's nullable side).
 */
export const PREREAD_LOCKING_SQL = `
  WITH k AS MATERIALIZED (
    SELECT * FROM ROWS FROM (json_to_recordset($1::json) AS (realm_key text, username_key text))
                  WITH ORDINALITY AS k(realm_key, username_key, n)
  ), stored AS MATERIALIZED (
    SELECT r.*, r.xmin::text AS row_version FROM registrations r JOIN k USING (realm_key, username_key)
     ORDER BY r.id FOR UPDATE OF r
  )
  SELECT ${bindingSelect('l')}, l.row_version AS "rowVersion",
         k.realm_key AS "aorRealm", k.username_key AS "aorUser", ${REALM_ACCOUNTS}
    FROM k LEFT JOIN stored l USING (realm_key, username_key)`;

const EXPIRES_AT = `to_timestamp(t."expiresUs" / 1e6)`;
/**
 * The sweeper's bound (migration 1796317000000) stays where it is when a refresh moves the
 * expiry later, so that a refresh changes no indexed column (a HOT update); an earlier expiry
 * lowers it, and a binding live again after its end starts from its new expiry.
 */
const SWEEP_AT_UPDATE = `sweep_at = CASE WHEN r.ended_at IS NULL THEN LEAST(r.sweep_at, ${EXPIRES_AT}) ELSE ${EXPIRES_AT} END`;

/**
 * $1: bindings to write (stored ones with their id); $2, $3: the stored ones' ids and the row
 * versions read; $4: ended segments for history; $5: bindings of AORs seen first (extensions);
 * $6: how many bindings $1 holds; $7 (with the outbox): OutboxRecords.
 *
 * A stored row is updated only if nobody changed it since it was read, a new one inserted only
 * if nobody inserted it meanwhile; registrations_check_written then raises (RGW01) unless every
 * binding was written, which aborts the statement. The outbox lock is taken once the bindings
 * and extensions are written, so it is never held while waiting for another writer's row.
 * Returns the written bindings' ids and new row versions (one row with NULLs if none).
 */
function writeSql(outbox: boolean): string {
  return `
  WITH t AS MATERIALIZED (
    SELECT * FROM json_to_recordset($1::json) AS t(id bigint, ${BINDING_RECORDSET})
  ), updated AS (
    UPDATE registrations r SET ${bindingUpdateSet('t')}, ${SWEEP_AT_UPDATE}
      FROM t JOIN unnest($2::bigint[], $3::text[]) AS v(id, row_version) ON v.id = t.id
     WHERE r.id = t.id AND r.xmin = v.row_version::xid
    RETURNING r.id, r.realm_key, r.username_key, r.contact_uri, r.xmin::text AS row_version
  ), inserted AS (
    INSERT INTO registrations (${COLUMN_NAMES}, sweep_at)
    SELECT ${bindingRecordsetSelect('t')}, ${EXPIRES_AT} FROM t WHERE t.id IS NULL
    ON CONFLICT (realm_key, username_key, contact_uri) DO NOTHING
    RETURNING id, realm_key, username_key, contact_uri, xmin::text AS row_version
  ), upserted AS (
    SELECT * FROM updated UNION ALL SELECT * FROM inserted
  ), history AS (
    INSERT INTO registration_history (registration_id, ${COLUMN_NAMES})
    SELECT u.id, ${bindingRecordsetSelect('h')}
      FROM json_to_recordset($4::json) AS h(${BINDING_RECORDSET})
      JOIN upserted u ON u.realm_key = h."realmKey" AND u.username_key = h."usernameKey"
                     AND u.contact_uri = h."contactUri"
  ), extensions AS (
    INSERT INTO extensions (realm_key, username_key, realm, username, account_id)
    SELECT DISTINCT ON ("realmKey", "usernameKey") "realmKey", "usernameKey", realm, username, "accountId"
      FROM json_to_recordset($5::json) AS x("realmKey" text, "usernameKey" text, realm text, username text, "accountId" text)
    ON CONFLICT (realm_key, username_key) DO NOTHING
    RETURNING 1
  ), checked AS MATERIALIZED (
    SELECT registrations_check_written($6, (SELECT count(*)::int FROM upserted))
         + (SELECT count(*)::int FROM extensions) AS n
  )${outbox ? `, ${outboxCtes('$7::json', { after: 'checked', ids: 'upserted' })}` : ''}
  SELECT u.id::float8 AS id, u.realm_key AS "realmKey", u.username_key AS "usernameKey",
         u.contact_uri AS "contactUri", u.row_version AS "rowVersion"
    FROM checked LEFT JOIN upserted u ON true`;
}

export const WRITE_SQL = writeSql(false);
export const WRITE_WITH_OUTBOX_SQL = writeSql(true);
