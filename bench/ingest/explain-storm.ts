// Issue 17: where a first registration's Postgres CPU goes, the product's statements against the
// bare ceiling's, on the same 1,000 Kamailio first registrations over a table already holding
// `--seed` bindings. Each statement runs in a transaction that is rolled back (then VACUUM, so
// no dead index entry is left for the next run's uniqueness checks), alternating the variants;
// the backend's CPU is read from /proc around the statement alone. Then one EXPLAIN (ANALYZE,
// BUFFERS) of each. Run:
//   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/ingest/explain-storm.ts [--seed N] [--reps N]
// Environment: EXPLAIN_DATABASE_URL (default …/registrations_bench_explain; dropped and made again).
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Client, Pool, QueryConfig } from 'pg';
import { parseKazooMessage, RegistrationEvent } from '@app/registrations';
import { createDataSource } from '@app/persistence/data-source';
import { initializeDataSource } from '@app/persistence/database-setup';
import { RegistrationStore } from '@app/persistence/registration.store';
import { WRITE_SQL } from '@app/persistence/registration-batch.sql';
import type { AppConfig } from '@app/config';
import { kamailioWaves } from './kamailio-stream';
import { toBareRow } from './bare-rows';
import { firstSight, query } from './bare-pipeline';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const SEED = arg('seed', 10_000);
const REPS = arg('reps', 10);
const BATCH = 1000;
const URL =
  process.env.EXPLAIN_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/registrations_bench_explain';

interface Statement {
  name: string;
  text: string;
  values: unknown[];
  /** A prepared statement's name: parsed and planned once per connection. */
  prepared?: string;
}

/** utime + stime of a process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

async function fresh(): Promise<void> {
  const admin = new Client({ connectionString: URL.replace(/\/[^/]*$/, '/postgres') });
  await admin.connect();
  const name = URL.slice(URL.lastIndexOf('/') + 1);
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}

async function main(): Promise<void> {
  await fresh();
  const ds = createDataSource(URL, 2, 'registrations-explain');
  await initializeDataSource(ds, URL, () => undefined);
  const store = new RegistrationStore(ds, {
    CHANGE_FEED_ENABLED: true,
    CHANGE_FEED_REFRESHES: false,
  } as AppConfig);
  const { storm } = kamailioWaves(SEED + BATCH, 100, (Date.now() + 600_000) * 1000);
  const events: RegistrationEvent[] = storm.map((m) => {
    const r = parseKazooMessage(Buffer.from(JSON.stringify(m.body)));
    if (!r.ok) throw new Error('unparsable');
    return r.event as RegistrationEvent;
  });
  for (let i = 0; i < SEED; i += BATCH) await store.applyBatch(events.slice(i, i + BATCH));

  // The product's statements for the next batch, captured as the store sends them.
  const captured: Statement[] = [];
  const orig = ds.query.bind(ds);
  ds.query = (async (text: string, values?: unknown[]) => {
    captured.push({ name: `product #${captured.length + 1}`, text, values: values ?? [] });
    return orig(text, values);
  }) as typeof ds.query;
  // (and on the pool, where the store sends its named statements)
  const pool = (ds.driver as unknown as { master: Pool }).master;
  const poolQuery = pool.query.bind(pool);
  pool.query = ((config: QueryConfig) => {
    captured.push({
      name: `product #${captured.length + 1}`,
      text: config.text,
      values: config.values ?? [],
    });
    return poolQuery(config);
  }) as typeof pool.query;
  await store.applyBatch(events.slice(SEED));
  ds.query = orig;
  pool.query = poolQuery;
  const [{ seq }] = await orig(`SELECT max(seq) - ${BATCH} AS seq FROM registration_changes`);
  await orig(
    `DELETE FROM registration_changes WHERE seq > $1;
     DELETE FROM extensions WHERE (realm_key, username_key) IN (SELECT realm_key, username_key FROM registrations WHERE id > (SELECT max(id) - ${BATCH} FROM registrations));
     DELETE FROM registrations WHERE id > (SELECT max(id) - ${BATCH} FROM registrations)`.replace(
      '$1',
      String(seq),
    ),
  );
  await ds.destroy();

  const rows = storm
    .slice(SEED)
    .map((m) => toBareRow(m.exchange, Buffer.from(JSON.stringify(m.body))));
  const seen = new Set(rows.map((r) => r.account_id as string)); // accounts: written by the seed
  const statements: Statement[] = [
    // Unnamed, as TypeORM's query() sends them (planned for every batch: the build before
    // prepared-query.ts), and named, as the store sends them now.
    ...captured.map((s, i) => ({
      ...s,
      name: i === 0 ? 'product pre-read, unnamed' : 'product write, unnamed',
    })),
    ...captured.map((s, i) => ({
      ...s,
      name: i === 0 ? 'product pre-read, named' : 'product write, named',
      prepared: `p${i}`,
    })),
    // Without the outbox, on both sides: what the change feed's rows cost each.
    {
      ...captured[1],
      name: 'product write, no outbox',
      prepared: 'p8',
      text: WRITE_SQL,
      values: captured[1].values.slice(0, 6),
    },
    {
      ...query('json', rows, false, firstSight(rows, seen)),
      name: 'bare json, no outbox',
    } as Statement,
    {
      ...query('json', rows, true, firstSight(rows, seen)),
      name: 'bare json_to_recordset',
    } as Statement,
    { ...query('values', rows, true, firstSight(rows, seen)), name: 'bare VALUES' } as Statement,
  ];
  console.log(`seeded ${SEED} bindings; ${captured.length} product statements captured`);
  for (const s of statements.filter((x) => x.values.length < 10))
    console.log(
      `  ${s.name}: parameters ${s.values.map((v) => (typeof v === 'string' ? v.length : JSON.stringify(v).length)).join(' + ')} characters`,
    );

  const db = new Client({ connectionString: URL });
  await db.connect();
  const pid = (await db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
  await db.query('VACUUM ANALYZE');
  const cpu = new Map<string, number[]>();
  const wall = new Map<string, number[]>();
  for (let rep = 0; rep < REPS; rep++) {
    const order = rep % 2 ? [...statements].reverse() : statements;
    for (const s of order) {
      await db.query('BEGIN');
      const c0 = cpuMs(pid);
      const t0 = performance.now();
      await db.query({ text: s.text, values: s.values, name: s.prepared });
      const ms = performance.now() - t0;
      const c = cpuMs(pid) - c0;
      await db.query('ROLLBACK');
      await db.query('VACUUM registrations, extensions, registration_changes, accounts');
      if (rep === 0) continue; // warm-up
      (cpu.get(s.name) ?? cpu.set(s.name, []).get(s.name)!).push(c);
      (wall.get(s.name) ?? wall.set(s.name, []).get(s.name)!).push(ms);
    }
  }
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(
    `backend CPU ms per statement of ${BATCH} first registrations (${REPS - 1} runs, load ${load}):`,
  );
  for (const s of statements)
    console.log(
      `  ${s.name.padEnd(30)} CPU ${avg(cpu.get(s.name)!).toFixed(1)} ms (${cpu.get(s.name)!.join(' ')}), wall ${avg(wall.get(s.name)!).toFixed(1)} ms`,
    );
  // Planning alone (what a named statement saves after its first executions), per statement.
  for (const s of statements.filter((x) => !x.prepared && x.values.length < 10)) {
    const ms: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { rows: plan } = await db.query({
        text: `EXPLAIN (SUMMARY ON) ${s.text}`,
        values: s.values,
      });
      const line = plan
        .map((r) => r['QUERY PLAN'] as string)
        .find((l) => l.startsWith('Planning Time'));
      ms.push(Number(/([\d.]+) ms/.exec(line ?? '')?.[1]));
    }
    console.log(`  ${s.name.padEnd(30)} planning ${ms.map((x) => x.toFixed(1)).join(' ')} ms`);
  }
  if (process.argv.includes('--explain'))
    for (const s of statements.filter((x) => !x.prepared)) {
      await db.query('BEGIN');
      const { rows: plan } = await db.query({
        text: `EXPLAIN (ANALYZE, BUFFERS) ${s.text}`,
        values: s.values,
      });
      await db.query('ROLLBACK');
      console.log(`\n=== ${s.name}\n${plan.map((r) => r['QUERY PLAN']).join('\n')}`);
    }
  await db.end();
}

main().catch((e: unknown) => {
  console.error((e as Error)?.stack ?? String(e));
  process.exit(1);
});
