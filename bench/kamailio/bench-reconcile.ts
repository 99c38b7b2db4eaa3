// npm run bench:reconcile [-- --phones 10000 --realms 10]: issue 14 point 4, "under 5 s for
// 10,000 phones". A real Kamailio (usrloc written through to Postgres, reg_sync answered as
// kazoo-configs-kamailio registrar-sync-role.cfg does, adapted: test/kamailio/kamailio.cfg.tmpl)
// holds the phones sipp registered; no ingest runs, so every event is lost. Three runs of the
// product's reconciliation (the same calls ReconcileRegistrationsService makes), each timed from
// the request to the committed table, then checked equal to Kamailio's usrloc:
//   1. empty table: every binding added;
//   2. a fifth unregistered and a fifth new phones registered meanwhile: ended + added;
//   3. nothing changed: the cost of a scheduled run.
// Split into collecting the answers (reg_sync → last answer) and writing (one transaction).
// Own database and vhost (KAMAILIO_BENCH_DATABASE_URL / _AMQP_URL). Figures: docs/benchmarks.md.
import 'reflect-metadata';
import { loadavg } from 'node:os';
import { cpuSeconds, cpuSnapshot } from '../support/proc-cpu';
import { readFileSync } from 'node:fs';
import { Client, Pool } from 'pg';
import { loadConfig } from '@app/config';
import { requestProxySnapshot } from '@app/messaging/reg-sync.client';
import { createDataSource } from '@app/persistence/data-source';
import { initializeDataSource } from '@app/persistence/database-setup';
import { RegistrationStore } from '@app/persistence/registration.store';
import { findFreePort, startKamailio } from '../../test/kamailio/kamailio-harness';
import { makePhones } from '../../test/sipp/make-phones';
import { runSipp } from '../../test/sipp/sipp';
import { ensureVhost } from '../../scripts/support/rabbitmq-vhost';

const DATABASE_URL =
  process.env.KAMAILIO_BENCH_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/registrations_reconcile_bench';
const AMQP_URL =
  process.env.KAMAILIO_BENCH_AMQP_URL ??
  'amqp://guest:guest@127.0.0.1:5672/registrations-reconcile-bench';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PHONES = arg('phones', 10_000);
const REALMS = arg('realms', 10);
const FIFTH = Math.ceil(PHONES / 5);

async function freshDatabase(): Promise<void> {
  const admin = new URL(DATABASE_URL);
  const name = admin.pathname.slice(1);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.toString() });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await c.end();
  const ds = createDataSource(DATABASE_URL, 1, 'registrations-reconcile-bench');
  await initializeDataSource(ds, DATABASE_URL, () => undefined);
  await ds.destroy();
}

async function main(): Promise<void> {
  await ensureVhost(AMQP_URL);
  await freshDatabase();
  const config = loadConfig({
    DATABASE_URL,
    AMQP_URL,
    QUEUE_PREFIX: 'regreconcilebench',
    LOG_LEVEL: 'warn',
  });
  const ds = createDataSource(DATABASE_URL, 4, 'registrations-reconcile-bench');
  await ds.initialize();
  const store = new RegistrationStore(ds, config);
  // The planner path's steps (read the AORs with locks, plan, write), summed per run.
  const steps: Record<string, number> = {};
  store.onStep = (step, s) => (steps[step] = (steps[step] ?? 0) + s);
  const pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
  const kam = await startKamailio({
    amqpUrl: AMQP_URL,
    sipPort: await findFreePort(),
    usrlocDb: DATABASE_URL,
    startTimeoutMs: 60_000,
  });
  try {
    // Kamailio's processes: its main one and the workers it forked.
    const kamPids = new Set<number>([kam.pid]);
    for (const [pid] of cpuSnapshot()) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === kam.pid)
          kamPids.add(pid);
      } catch {
        // gone
      }
    }
    const phones = makePhones({ count: PHONES + FIFTH, realms: REALMS, domain: 'bench.test' });
    const sippPort = await findFreePort();
    let cseq = 1;
    const sipp = async (scenario: 'register' | 'unregister', from: number, to: number) => {
      const r = await runSipp({
        scenario,
        phones,
        only: (_p, i) => i >= from && i < to,
        port: kam.sipPort,
        localPort: sippPort,
        rate: 3000,
        limit: 300,
        cseq: cseq++,
        timeoutSec: 600,
      });
      if (r.failed > 0) throw new Error(`sipp ${scenario}: ${r.failed} failed`);
    };
    const kamailioSet = async () => {
      const out: string[] = [];
      for (const [aor, cs] of await kam.dump())
        for (const c of cs) out.push(`${aor} ${c.Address} ${c['Call-ID']}`);
      return out.sort();
    };
    const productSet = async () => {
      const { rows } = await pool.query<{ b: string }>(
        `SELECT username || '@' || realm || ' ' || contact_uri || ' ' || call_id AS b
           FROM registrations WHERE ended_at IS NULL AND expires_at > now() ORDER BY 1`,
      );
      return rows.map((r) => r.b);
    };
    const run = async (name: string) => {
      const expected = await kamailioSet();
      const load = loadavg()[0].toFixed(2);
      const cpu0 = cpuSnapshot();
      const node0 = process.cpuUsage();
      const t0 = performance.now();
      const snapshot = await requestProxySnapshot({
        amqpUrl: AMQP_URL,
        queuePrefix: config.QUEUE_PREFIX,
        durable: false,
        settleMs: config.RECONCILE_SETTLE_MS,
        firstAnswerMs: config.RECONCILE_FIRST_ANSWER_MS,
        timeoutMs: config.RECONCILE_TIMEOUT_MS,
        expectedNodes: await store.kazooNodes(),
      });
      const t1 = performance.now();
      for (const k of Object.keys(steps)) delete steps[k];
      const r = await store.reconcile(snapshot);
      const t2 = performance.now();
      const cpu1 = cpuSnapshot();
      const node = process.cpuUsage(node0);
      const cpu = (pick: (pid: number, comm: string) => boolean) =>
        cpuSeconds(cpu0, cpu1, pick).toFixed(2);
      const a = snapshot.answeredMs;
      const actual = await productSet();
      const equal = JSON.stringify(actual) === JSON.stringify(expected);
      console.log(
        `${name}: ${expected.length} held; request→table equal ${Math.round(t2 - t0)} ms ` +
          `(answers ${Math.round(t1 - t0)} ms, write ${Math.round(t2 - t1)} ms); ` +
          `added ${r.added}, refreshed ${r.refreshed}, ended ${r.ended}, kept ${r.kept}; ` +
          `table equal: ${equal}; load ${load}; first/last answer at ${a?.first}/${a?.last} ms; ` +
          `planner steps ms: ${Object.entries(steps)
            .map(([k, v]) => `${k} ${Math.round(v * 1000)}`)
            .join(', ')}; ` +
          `CPU s: node ${((node.user + node.system) / 1e6).toFixed(2)}, kamailio ` +
          `${cpu((pid, c) => c === 'kamailio' && kamPids.has(pid))}, ` +
          `rabbitmq (all vhosts) ${cpu((_, c) => c === 'beam.smp')}`,
      );
      if (!equal) throw new Error(`${name}: the table differs from Kamailio's`);
      return t2 - t0;
    };

    await sipp('register', 0, PHONES);
    const worst = [await run('1. empty table')];
    await sipp('unregister', 0, FIFTH);
    await sipp('register', PHONES, PHONES + FIFTH);
    worst.push(await run('2. a fifth gone, a fifth new'));
    worst.push(await run('3. nothing changed'));
    console.log(
      `phones: ${PHONES}; worst request→table equal ms: ${Math.round(Math.max(...worst))}`,
    );
  } finally {
    await kam.stop();
    await pool.end();
    await ds.destroy();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
