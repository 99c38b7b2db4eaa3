// The ceiling: the least code that does the ingest's job, with no framework. amqplib consume
// of each queue the product consumes (prefetch and batch size as the product's), JSON.parse + map to the same columns, ONE upsert statement
// per batch into the same tables (history rows for ended bindings in the same statement), one
// multiple-ack once it committed. No reading back of current rows and no planning in JS: what
// remains is the cost of RabbitMQ and Postgres themselves.
import { performance } from 'node:perf_hooks';
import * as amqp from 'amqplib';
import { Client, QueryConfig } from 'pg';
import {
  BINDING_COLUMNS,
  COLUMN_NAMES,
  RECORDSET_TYPES,
  recordsetSelect,
} from '@app/persistence/binding-columns';
import { ingestPrefetch, loadConfig } from '@app/config/config';
import { keys, topology } from '@app/messaging/topology';
import { OUTBOX_LOCK, RELAY_READ_SQL, RelayedChange } from '@app/persistence/change-outbox';
import { ConfirmBatch } from '@app/messaging/publisher';
import { RELAY_CHUNK, RELAY_PASS_MAX } from '../../apps/ingest/src/change-relay.service';
import { BareRow, toBareRow } from './bare-rows';
import { CpuSnapshot, cpuSnapshot } from '../support/proc-cpu';

export type SqlVariant = 'values' | 'json';
export const VARIANT_LABEL: Record<SqlVariant, string> = {
  values: 'INSERT … VALUES multi-row',
  json: 'INSERT … SELECT FROM json_to_recordset($1::json)',
};
// The product's own settings (its defaults unless set for both): the same messages in flight
// and rows per statement on both sides of the ratio.
// One writer per queue: the prefetch of one lane.
const config = loadConfig(process.env);
const PREFETCH = ingestPrefetch(config, 1);
const BATCH = config.INGEST_BATCH_SIZE;
const LINGER_MS = 5;

// A newer stored event wins (the order guard); refresh_count counts updates.
const KEEP = ['realm_key', 'username_key', 'contact_uri', 'first_registered_at', 'refresh_count'];
const SET = BINDING_COLUMNS.filter((c) => !KEEP.includes(c.name))
  .map((c) => `${c.name} = EXCLUDED.${c.name}`)
  .concat('refresh_count = registrations.refresh_count + 1')
  .join(', ');
/**
 * With the change feed, what the product's outbox holds: a row per new binding and per ended
 * one (refreshes are left out, as the product's default), its JSON, under the product's
 * outbox lock (taken once the upsert is done, held to the commit: seq order is commit order).
 */
const OUTBOX = `, settled AS (SELECT count(*) FROM up),
  outbox_lock AS MATERIALIZED (SELECT pg_advisory_xact_lock(${OUTBOX_LOCK}) FROM settled),
  outbox AS (
    INSERT INTO registration_changes (change, occurred_at, account_id, realm, username, registration_id, registration)
    SELECT COALESCE(end_reason, 'registered'), COALESCE(ended_at, last_registered_at), account_id,
           realm, username, id, jsonb_strip_nulls(to_jsonb(up) - 'id')
      FROM up CROSS JOIN outbox_lock WHERE end_reason IS NOT NULL OR refresh_count = 0 ORDER BY id)`;

/**
 * What the product writes on first sight, with no reading: an extension for every AOR
 * Kamailio marks First-Registration (`ext`), and accounts this pipeline has not written yet
 * (`acc`). `ON CONFLICT DO NOTHING` keeps a redelivery harmless.
 */
const FIRST_SIGHT = (ext: string, acc: string) => `, extension AS (
    INSERT INTO extensions (realm_key, username_key, realm, username, account_id)
    SELECT DISTINCT ON (realm_key, username_key) realm_key, username_key, realm, username, account_id
      FROM json_to_recordset(${ext}::json) AS x(realm_key text, username_key text, realm text, username text, account_id text)
    ON CONFLICT (realm_key, username_key) DO NOTHING),
  account AS (
    INSERT INTO accounts (id, name, realm)
    SELECT id, name, realm FROM json_to_recordset(${acc}::json) AS a(id text, name text, realm text)
    ON CONFLICT (id) DO NOTHING)`;

/**
 * One statement (so one implicit transaction): the upsert, extensions and accounts first seen,
 * the outbox rows (with the change feed), then history for ended rows.
 */
const statement = (insert: string, changeFeed: boolean, ext: string, acc: string) => `
  WITH up AS (
    ${insert}
    ON CONFLICT (realm_key, username_key, contact_uri) DO UPDATE SET ${SET}
     WHERE registrations.event_us <= EXCLUDED.event_us
    RETURNING id, ${COLUMN_NAMES})${FIRST_SIGHT(ext, acc)}${changeFeed ? OUTBOX : ''}
  INSERT INTO registration_history (registration_id, ${COLUMN_NAMES})
  SELECT id, ${COLUMN_NAMES} FROM up WHERE end_reason IS NOT NULL`;

const JSON_INSERT = `INSERT INTO registrations (${COLUMN_NAMES})
   SELECT ${recordsetSelect('t')} FROM json_to_recordset($1::json) AS t(${RECORDSET_TYPES})`;
const valuesSql = new Map<string, string>(); // per row count: named statements get planned once
function valuesStatement(n: number, changeFeed: boolean): string {
  let sql = valuesSql.get(`${n}/${changeFeed}`);
  if (!sql) {
    let p = 0;
    const row = () =>
      `(${BINDING_COLUMNS.map((c) => (c.kind === 'us' ? `to_timestamp($${++p}::float8 / 1e6)` : `$${++p}`)).join(', ')})`;
    const rows = Array.from({ length: n }, row).join(',\n');
    sql = statement(
      `INSERT INTO registrations (${COLUMN_NAMES}) VALUES ${rows}`,
      changeFeed,
      `$${p + 1}`,
      `$${p + 2}`,
    );
    valuesSql.set(`${n}/${changeFeed}`, sql);
  }
  return sql;
}

const JSON_SQL = {
  plain: statement(JSON_INSERT, false, '$2', '$3'),
  feed: statement(JSON_INSERT, true, '$2', '$3'),
};

/** The extensions and accounts of a batch, as the JSON parameters of FIRST_SIGHT. */
interface FirstSight {
  extensions: string;
  accounts: string;
}

export function query(
  variant: SqlVariant,
  rows: BareRow[],
  changeFeed: boolean,
  first: FirstSight,
): QueryConfig {
  const name = `bare-${variant}${changeFeed ? '-feed' : ''}`;
  if (variant === 'json')
    return {
      name,
      text: JSON_SQL[changeFeed ? 'feed' : 'plain'],
      values: [JSON.stringify(rows), first.extensions, first.accounts],
    };
  const values: unknown[] = [];
  for (const r of rows) for (const c of BINDING_COLUMNS) values.push(r[c.name] ?? null);
  values.push(first.extensions, first.accounts);
  return { name: `${name}-${rows.length}`, text: valuesStatement(rows.length, changeFeed), values };
}

/** Extensions of the rows Kamailio marks first; accounts not in `written` yet (added to it). */
export function firstSight(rows: BareRow[], written: Set<string>): FirstSight {
  const extensions: BareRow[] = [];
  const accounts: BareRow[] = [];
  for (const r of rows) {
    if (r._first)
      extensions.push({
        realm_key: r.realm_key,
        username_key: r.username_key,
        realm: r.realm,
        username: r.username,
        account_id: r.account_id,
      });
    const id = r.account_id;
    if (typeof id === 'string' && !written.has(id)) {
      written.add(id);
      accounts.push({ id, name: r._account_name, realm: r._account_realm });
    }
  }
  return { extensions: JSON.stringify(extensions), accounts: JSON.stringify(accounts) };
}

export interface BareResult {
  ms: number;
  /** CPU counters at the last ack, taken while our Postgres backends still exist. */
  cpuAfter: CpuSnapshot;
  /** Our Postgres backends (one per queue). */
  pgPids: number[];
  batches: number;
  statementMs: number;
  /** The lines of `afterLastCommit`. */
  afterLines: string[];
}

/**
 * With the change feed: what the product's relay does, by hand, pipelined as it is. Publishes the
 * outbox in seq order (persistent, key change.account.realm.user, body {seq, change, occurred_at,
 * account_id, registration} printed by Postgres: the product relay's read), each read of
 * RELAY_CHUNK as soon as it is read, on one channel; the confirms (ConfirmBatch) are awaited once
 * per pass of up to RELAY_PASS_MAX, then the position moves; until stopped.
 */
async function relay(conn: amqp.ChannelModel, db: Client, stopped: () => boolean): Promise<void> {
  const exchange = topology().changes;
  const ch = await conn.createConfirmChannel();
  await ch.assertExchange(exchange.name, exchange.type, { durable: exchange.durable });
  // From where the last run left off (the storm's relay, for the refresh wave).
  const { rows: at } = await db.query<{ through: string }>(
    'SELECT published_through::text AS through FROM registration_changes_relay WHERE id = 1',
  );
  let through = at[0]?.through ?? '0';
  while (!stopped()) {
    let published = 0;
    const batch = new ConfirmBatch(ch);
    let last = through;
    while (published < RELAY_PASS_MAX) {
      const { rows } = await db.query<RelayedChange>({
        name: 'bare-relay',
        text: RELAY_READ_SQL,
        values: [last, Math.min(RELAY_CHUNK, RELAY_PASS_MAX - published)],
      });
      for (const r of rows) {
        batch.publish(
          exchange.name,
          keys.change(r.change, r.account_id, r.realm, r.username),
          Buffer.from(r.body),
          { persistent: true, contentType: 'application/json', messageId: r.seq },
        );
      }
      published += rows.length;
      if (rows.length > 0) last = rows[rows.length - 1].seq;
      if (rows.length < RELAY_CHUNK) break; // caught up
    }
    if (published === 0) {
      await new Promise((r) => setTimeout(r, 100)); // as the product's relay, when idle
      continue;
    }
    await batch.confirmed(); // rejects if the broker refused one: the run fails
    through = last;
    await db.query('UPDATE registration_changes_relay SET published_through = $1 WHERE id = 1', [
      through,
    ]);
  }
  await ch.close().catch(() => undefined);
}

/**
 * Consumes `total` messages from `queues`, each on its own channel and its own Postgres
 * connection (the product's parallelism: one consumer per queue); resolves with the time from
 * the first delivery to the last ack.
 */
export async function runBare(
  amqpUrl: string,
  databaseUrl: string,
  queues: string[],
  total: number,
  variant: SqlVariant,
  changeFeed: boolean,
  /** Runs after the last ack, the relay still running: as ProductRun.afterLastCommit. */
  afterLastCommit?: () => Promise<string[]>,
  /** Called with a batch's message count once it committed (bench:kamailio's progress). */
  onCommit?: (events: number) => void,
): Promise<BareResult> {
  const conn = await amqp.connect(amqpUrl);
  const clients: Client[] = [];
  try {
    let first = 0;
    let acked = 0;
    let batches = 0;
    let statementMs = 0;
    let finish!: (r: Omit<BareResult, 'pgPids' | 'afterLines'>) => void;
    let fail!: (e: unknown) => void;
    const done = new Promise<Omit<BareResult, 'pgPids' | 'afterLines'>>(
      (res, rej) => ((finish = res), (fail = rej)),
    );
    const pgPids: number[] = [];
    const accountsWritten = new Set<string>();
    for (const queue of queues) {
      const db = new Client({
        connectionString: databaseUrl,
        application_name: 'registrations-bench-bare',
      });
      clients.push(db);
      await db.connect();
      pgPids.push((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      const ch = await conn.createChannel();
      await ch.prefetch(PREFETCH);
      // Messages are parsed and mapped as they arrive, i.e. while the previous batch's
      // statement runs: the only JS work left between two statements is building the next one.
      let msgs: amqp.ConsumeMessage[] = [];
      let rows: BareRow[] = [];
      let busy = false;
      let timer: NodeJS.Timeout | undefined;

      const flush = async (): Promise<void> => {
        timer = undefined;
        if (busy || msgs.length === 0) return;
        busy = true;
        const n = Math.min(BATCH, msgs.length);
        const last = msgs[n - 1];
        const batchRows = rows.slice(0, n);
        msgs = msgs.slice(n);
        rows = rows.slice(n);
        // ON CONFLICT cannot touch a row twice in one statement: collapse a key's events, last wins.
        const byKey = new Map<string, BareRow>();
        for (const r of batchRows)
          byKey.set(`${r.realm_key}\u0000${r.username_key}\u0000${r.contact_uri}`, r);
        const t = performance.now();
        // Accounts are shared by both queues' statements: ON CONFLICT DO NOTHING settles a race.
        const sight = firstSight(batchRows, accountsWritten);
        await db.query(query(variant, [...byKey.values()], changeFeed, sight));
        statementMs += performance.now() - t;
        ch.ack(last, true); // committed: ack the whole batch at once
        batches++;
        acked += n;
        onCommit?.(n);
        busy = false;
        if (acked >= total)
          finish({ ms: performance.now() - first, cpuAfter: cpuSnapshot(), batches, statementMs });
        else schedule();
      };
      const schedule = () => {
        if (busy || msgs.length === 0) return;
        if (msgs.length >= BATCH) {
          if (timer) clearTimeout(timer);
          flush().catch(fail);
        } else timer ??= setTimeout(() => flush().catch(fail), LINGER_MS);
      };
      await ch.consume(queue, (m) => {
        if (!m) return fail(new Error('consumer cancelled by the broker'));
        if (first === 0) first = performance.now();
        msgs.push(m);
        rows.push(toBareRow(m.fields.exchange, m.content));
        schedule();
      });
    }
    // With the change feed, the relay runs beside the consumers (its own connection), as the
    // product's does. After the last ack (the wave is timed by then) it keeps publishing until
    // `afterLastCommit` (the change feed's probe) has what it waits for, as the product's does.
    let relaying: Promise<void> | undefined;
    let stopRelay = false;
    if (changeFeed) {
      const db = new Client({
        connectionString: databaseUrl,
        application_name: 'registrations-bench-bare',
      });
      clients.push(db);
      await db.connect();
      pgPids.push((await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid);
      relaying = relay(conn, db, () => stopRelay).catch(fail);
    }
    const result = await done;
    const afterLines = (await afterLastCommit?.()) ?? [];
    stopRelay = true;
    await relaying;
    return { ...result, pgPids, afterLines };
  } finally {
    await conn.close().catch(() => undefined);
    for (const db of clients) await db.end().catch(() => undefined);
  }
}
