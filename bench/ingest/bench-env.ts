// Where the benchmark runs: its own database and vhost (never a deployment's), and the resets
// that make every run start alike: empty tables, only this run's queues, 200k messages waiting.
import type { ChannelModel } from 'amqplib';
import { Client, Pool } from 'pg';
import { declareExchange, declareQueue } from '@app/messaging/amqp-topology';
import { Topology, topology } from '@app/messaging/topology';
import { createDataSource } from '@app/persistence/data-source';
import { initializeDataSource } from '@app/persistence/database-setup';
import { preload, PreloadMessage } from '../../scripts/traffic/preload';

export const BENCH_DATABASE_URL =
  process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/registrations_bench';
export const BENCH_AMQP_URL =
  process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/registrations-bench';
export const QUEUE_PREFIX = process.env.BENCH_QUEUE_PREFIX ?? 'regbench';

/** Our topology, as the ingest app will declare it (KAZOO_EXCHANGE_DURABLE as the app reads it). */
export const TOPOLOGY = topology({
  kazooExchangeDurable: ['true', '1', 'yes'].includes(process.env.KAZOO_EXCHANGE_DURABLE ?? ''),
  queuePrefix: QUEUE_PREFIX,
});

/** Both pipelines consume the product's queues (the bare one without the dead-letter queue). */
export const PRODUCT_QUEUES = [TOPOLOGY.kazooQueue, TOPOLOGY.freeswitchQueue];

const log = { warn: (m: string) => console.warn(`warning: ${m}`) };

/**
 * Drops the bench database and creates it again through the product's own start-up path
 * (create if missing, run every migration): each run starts from the same empty schema, whatever
 * tables and indexes the product has grown meanwhile.
 */
export async function freshDatabase(
  log: (m: string) => void = () => undefined,
  databaseUrl = BENCH_DATABASE_URL,
): Promise<Pool> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const admin = new Client({ connectionString: url.toString() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name.replace(/"/g, '""')}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
  const ds = createDataSource(databaseUrl, 1, 'registrations-bench');
  await initializeDataSource(ds, databaseUrl, log);
  await ds.destroy();
  return new Pool({ connectionString: databaseUrl, max: 2 });
}

/**
 * Deletes every bench queue, then declares (and binds) only those of the coming run: a queue
 * left bound from the other pipeline would receive a copy of every message. `topo`: another
 * bench's queues (bench:kamailio's).
 */
export async function resetQueues(
  conn: ChannelModel,
  pipeline: 'bare' | 'product',
  topo: Topology = TOPOLOGY,
): Promise<void> {
  const ch = await conn.createChannel();
  const product = [topo.kazooQueue, topo.freeswitchQueue];
  const all = [...product, topo.deadLetterQueue].map((q) => q.name);
  // `<prefix>.bare`: the bare pipeline's own queue in earlier versions of this bench.
  const legacy = `${topo.deadLetter.name.replace(/\.dead-letter$/, '')}.bare`;
  for (const name of [...all, legacy]) await ch.deleteQueue(name);
  const exchanges = [topo.registrar, topo.tapEvents, topo.deadLetter];
  for (const ex of exchanges) await declareExchange(conn, ex, log);
  const queues = pipeline === 'bare' ? product : [...product, topo.deadLetterQueue];
  let declaring = ch;
  for (const q of queues) declaring = await declareQueue(conn, declaring, q, log);
  await declaring.close();
}

/** Ready (not yet delivered) messages in the given queues. */
export async function readyCount(conn: ChannelModel, names: string[]): Promise<number> {
  const ch = await conn.createChannel();
  try {
    let n = 0;
    for (const name of names) n += (await ch.checkQueue(name)).messageCount;
    return n;
  } finally {
    await ch.close();
  }
}

/** Publishes the stream (persistent, with confirms) and checks that all of it was queued. */
export async function fillQueues(
  conn: ChannelModel,
  messages: readonly PreloadMessage[],
  queues: string[],
): Promise<number> {
  const ms = await preload(BENCH_AMQP_URL, messages, { confirmEvery: 2000 });
  const queued = await readyCount(conn, queues);
  if (queued !== messages.length)
    throw new Error(`preloaded ${messages.length} messages but ${queued} are queued`);
  return ms;
}

/** Live bindings (not ended, not expired) and all rows, to check a run wrote what it should. */
export async function countBindings(
  pool: Pool,
): Promise<{ live: number; rows: number; history: number; changes: number }> {
  const { rows } = await pool.query(
    `SELECT (SELECT count(*) FROM registrations WHERE ended_at IS NULL AND expires_at > now()) AS live,
            (SELECT count(*) FROM registrations) AS rows,
            (SELECT count(*) FROM registration_history) AS history,
            (SELECT count(*) FROM registration_changes) AS changes`,
  );
  return {
    live: Number(rows[0].live),
    rows: Number(rows[0].rows),
    history: Number(rows[0].history),
    changes: Number(rows[0].changes),
  };
}

/**
 * Postgres backends serving the bench database (the consumer's), for the CPU report; `filter`
 * keeps only (match) or leaves out (!match) one application_name, e.g. the API's.
 */
export async function benchBackends(
  pool: Pool,
  filter?: { app: string; match: boolean },
): Promise<number[]> {
  const { rows } = await pool.query(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND ($1::text IS NULL OR (application_name = $1) = $2)`,
    [filter?.app ?? null, filter?.match ?? true],
  );
  return rows.map((r: { pid: number }) => r.pid);
}
