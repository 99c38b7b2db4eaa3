// The ceiling: the least code that does the ingest's job, with no framework. amqplib consume
// (prefetch 1000) of each queue the product consumes, batches of 500, JSON.parse + map to the same columns, ONE upsert statement
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
import { BareRow, toBareRow } from './bare-rows';
import { CpuSnapshot, cpuSnapshot } from '../support/proc-cpu';

export type SqlVariant = 'values' | 'json';
export const VARIANT_LABEL: Record<SqlVariant, string> = {
  values: 'INSERT … VALUES multi-row',
  json: 'INSERT … SELECT FROM json_to_recordset($1::json)',
};
const PREFETCH = 1000;
const BATCH = 500;
const LINGER_MS = 5;

// A newer stored event wins (the order guard); refresh_count counts updates.
const KEEP = ['realm_key', 'username_key', 'contact_uri', 'first_registered_at', 'refresh_count'];
const SET = BINDING_COLUMNS.filter((c) => !KEEP.includes(c.name))
  .map((c) => `${c.name} = EXCLUDED.${c.name}`)
  .concat('refresh_count = registrations.refresh_count + 1')
  .join(', ');
/** One statement (so one implicit transaction): the upsert, then history for ended rows. */
const statement = (insert: string) => `
  WITH up AS (
    ${insert}
    ON CONFLICT (realm_key, username_key, contact_uri) DO UPDATE SET ${SET}
     WHERE registrations.event_us <= EXCLUDED.event_us
    RETURNING id, ${COLUMN_NAMES})
  INSERT INTO registration_history (registration_id, ${COLUMN_NAMES})
  SELECT id, ${COLUMN_NAMES} FROM up WHERE end_reason IS NOT NULL`;

const JSON_SQL = statement(
  `INSERT INTO registrations (${COLUMN_NAMES})
   SELECT ${recordsetSelect('t')} FROM json_to_recordset($1::json) AS t(${RECORDSET_TYPES})`,
);
const valuesSql = new Map<number, string>(); // per row count: named statements get planned once
function valuesStatement(n: number): string {
  let sql = valuesSql.get(n);
  if (!sql) {
    let p = 0;
    const row = () =>
      `(${BINDING_COLUMNS.map((c) => (c.kind === 'us' ? `to_timestamp($${++p}::float8 / 1e6)` : `$${++p}`)).join(', ')})`;
    const rows = Array.from({ length: n }, row).join(',\n');
    valuesSql.set(
      n,
      (sql = statement(`INSERT INTO registrations (${COLUMN_NAMES}) VALUES ${rows}`)),
    );
  }
  return sql;
}

function query(variant: SqlVariant, rows: BareRow[]): QueryConfig {
  if (variant === 'json')
    return { name: 'bare-json', text: JSON_SQL, values: [JSON.stringify(rows)] };
  const values: unknown[] = [];
  for (const r of rows) for (const c of BINDING_COLUMNS) values.push(r[c.name] ?? null);
  return { name: `bare-values-${rows.length}`, text: valuesStatement(rows.length), values };
}

export interface BareResult {
  ms: number;
  /** CPU counters at the last ack, taken while our Postgres backends still exist. */
  cpuAfter: CpuSnapshot;
  /** Our Postgres backends (one per queue). */
  pgPids: number[];
  batches: number;
  statementMs: number;
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
): Promise<BareResult> {
  const conn = await amqp.connect(amqpUrl);
  const clients: Client[] = [];
  try {
    let first = 0;
    let acked = 0;
    let batches = 0;
    let statementMs = 0;
    let finish!: (r: Omit<BareResult, 'pgPids'>) => void;
    let fail!: (e: unknown) => void;
    const done = new Promise<Omit<BareResult, 'pgPids'>>(
      (res, rej) => ((finish = res), (fail = rej)),
    );
    const pgPids: number[] = [];
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
        await db.query(query(variant, [...byKey.values()]));
        statementMs += performance.now() - t;
        ch.ack(last, true); // committed: ack the whole batch at once
        batches++;
        acked += n;
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
    return { ...(await done), pgPids };
  } finally {
    await conn.close().catch(() => undefined);
    for (const db of clients) await db.end().catch(() => undefined);
  }
}
