// npm run bench:reg-query [-- --queries N]: issue 14 point 3. reg_query per-query latency at
// 1,000,000 live bindings (bench/api's data set, in a database of this bench's own). A client
// speaking kapi_registration (scripts/support/kapi-registration-client.ts) asks Realm +
// Username of random live users, one query at a time, through RabbitMQ to the API app's
// responder and back (publish → answer received); also the responder's own time (Postgres +
// rendering, RegQueryResponder.answer) and the EXPLAIN (ANALYZE) of the statement. Prints
// p50 / p90 / p99 / max in ms.
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import { loadConfig } from '@app/config/config';
import { createApiApp } from '../../apps/api/src/api.bootstrap';
import { RegQueryResponder } from '../../apps/api/src/reg-query/reg-query.responder';
import { KapiRegistrationClient } from '../../scripts/support/kapi-registration-client';
import { ensureVhost } from '../../scripts/support/rabbitmq-vhost';
import { BENCH_DATABASE_URL, ensureDataset, prepareDatabase, TOTAL_BINDINGS } from '../api/dataset';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const QUERIES = arg('queries', 2000);
const WARMUP = arg('warmup', 200);
const AMQP_URL =
  process.env.BENCH_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/registrations-bench-reg-query';

function summary(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(2);
  return `p50 ${at(0.5)} ms, p90 ${at(0.9)} ms, p99 ${at(0.99)} ms, max ${s[s.length - 1].toFixed(2)} ms (n=${s.length})`;
}

async function main(): Promise<void> {
  await prepareDatabase();
  const pool = new Pool({ connectionString: BENCH_DATABASE_URL, max: 2 });
  await ensureDataset(pool);
  const { rows: live } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM registrations WHERE ended_at IS NULL AND expires_at > now()`,
  );
  const { rows: users } = await pool.query<{ realm: string; username: string }>(
    `SELECT realm, username FROM registrations TABLESAMPLE SYSTEM (2)
      WHERE ended_at IS NULL AND expires_at > now() LIMIT $1`,
    [QUERIES + WARMUP],
  );
  const plan = await pool.query(
    `EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM registrations r LEFT JOIN accounts a ON a.id = r.account_id
      WHERE r.realm_key = $1 AND r.username_key = $2 AND r.ended_at IS NULL AND r.expires_at > now()`,
    [users[0].realm.toLowerCase(), users[0].username.toLowerCase()],
  );
  await pool.end();

  await ensureVhost(AMQP_URL);
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: BENCH_DATABASE_URL,
    AMQP_URL,
    QUEUE_PREFIX: 'bench-reg-query',
    KAZOO_REG_QUERY: 'true',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
  });
  const { app } = await createApiApp(config, { port: 0 });
  const responder = app.get(RegQueryResponder);
  await responder.ready();
  const client = await KapiRegistrationClient.open(AMQP_URL);
  try {
    const roundTrip: number[] = [];
    const own: number[] = [];
    let answered = 0;
    for (let i = 0; i < users.length; i++) {
      const u = users[i];
      const t0 = performance.now();
      const a = await client.query({ Realm: u.realm, Username: u.username });
      const t1 = performance.now();
      await responder.answer({
        'Event-Category': 'directory',
        'Event-Name': 'reg_query',
        'Server-ID': 'bench',
        Realm: u.realm,
        Username: u.username,
        'Count-Only': false,
      });
      const t2 = performance.now();
      if (i < WARMUP) continue;
      if (a['Event-Name'] === 'reg_query_resp' && a.Fields.length > 0) answered++;
      roundTrip.push(t1 - t0);
      own.push(t2 - t1);
    }
    console.log(
      `live bindings: ${live[0].n.toLocaleString('en-US')} (data set of ${TOTAL_BINDINGS.toLocaleString('en-US')})`,
    );
    console.log(
      `queries: ${roundTrip.length} Realm + Username, one at a time; ${answered} answered with the user's bindings`,
    );
    console.log(
      `round trip over RabbitMQ (publish → reg_query_resp received): ${summary(roundTrip)}`,
    );
    console.log(`responder only (Postgres + rendering, in process):           ${summary(own)}`);
    console.log('EXPLAIN (ANALYZE, BUFFERS):');
    for (const r of plan.rows) console.log(`  ${r['QUERY PLAN']}`);
  } finally {
    await client.close();
    await app.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
