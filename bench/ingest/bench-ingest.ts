// npm run bench:ingest [-- --rounds N]: issue 17, "Must show 1 and 4". What a user runs: the
// ingest app with its defaults (change feed on: outbox rows in every batch, the relay
// publishing them), on what Kamailio publishes in its fastest storm — 100,000 phones of 100
// accounts registering for the first time (reg_success with First-Registration and the
// accounts in Custom-Channel-Vars), then the same phones refreshing. Each wave is preloaded
// before it is consumed, and timed on its own: separate figures for the storm and for the
// refreshes. Runs alternate between the bare pipeline (the ceiling) and the real ingest app.
// The last lines are `storm ratio: <ingest/bare>`, `refresh ratio: …` and `ingest ratio:` (the
// lower of the two). Figures go to docs/benchmarks.md.
//
// What both sides write: bindings, history of ended ones, an extension per new AOR, the
// accounts first seen, and (the change feed being on by default) an outbox row per new or
// ended binding, published by a relay with confirms. --no-change-feed turns the outbox off on
// both sides (CHANGE_FEED_ENABLED=false for the app).
//
// The change feed's latency under each storm: recorded_at → delivered from the exchange
// `registrations.changes` (both pipelines; exchange-probe.ts), and, for the product's storm
// only (the bare pipeline has no API), recorded_at → an SSE client of the API's change stream:
// the real API app runs beside the ingest during that wave, with one client per account on
// --sse-accounts of them (sse-probe.ts); its CPU is reported as `api`. Both are taken after the
// wave's last commit and before the pipeline is stopped: each waits (FEED_WAIT_MS) for every
// change of the wave, prints `N of M received`, and the bench fails if one never arrived.
//
// Options: --rounds N (2), --phones N (100000), --accounts N (100), --sse-accounts N (5),
// --only bare|ingest, --no-change-feed. Environment: BENCH_DATABASE_URL, BENCH_AMQP_URL,
// BENCH_QUEUE_PREFIX, BENCH_INGEST_PORT, BENCH_API_PORT, BENCH_TIMEOUT_S,
// BENCH_ANALYZE_EVERY_S, BENCH_NODE_ARGS; the app's own variables (INGEST_BATCH_SIZE,
// INGEST_PREFETCH…) pass through.
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import * as amqp from 'amqplib';
import type { Pool } from 'pg';
import { kamailioWaves } from './kamailio-stream';
import { runBare, SqlVariant, VARIANT_LABEL } from './bare-pipeline';
import {
  BENCH_AMQP_URL,
  BENCH_DATABASE_URL,
  benchBackends,
  countBindings,
  fillQueues,
  freshDatabase,
  PRODUCT_QUEUES,
  QUEUE_PREFIX,
  resetQueues,
} from './bench-env';
import { cpuReport, cpuSnapshot } from '../support/proc-cpu';
import { runProduct } from './product-run';
import { startExchangeProbe } from './exchange-probe';
import { accountsOf, API_APP_NAME, startSseProbe } from './sse-probe';
import { metricSum } from '../../scripts/support/prometheus-text';
import { ensureVhost } from '../../scripts/support/rabbitmq-vhost';
import { median } from '../support/stats';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('rounds', 2);
const PHONES = arg('phones', 100_000);
const ACCOUNTS = arg('accounts', 100);
const SSE_ACCOUNTS = arg('sse-accounts', 5);
type Wave = 'storm' | 'refresh';
const WAVES: Wave[] = ['storm', 'refresh'];
// --only bare|ingest: one pipeline alone, for investigating (no ratio then).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
const changeFeed = !process.argv.includes('--no-change-feed');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
/** How long after the wave's last commit the change feed's probes wait for its last change. */
const FEED_WAIT_MS = 60_000;
/** After each wave every phone is live once; the storm wrote one change row per phone. */
function checkWave(b: Awaited<ReturnType<typeof countBindings>>, wave: Wave, what: string): void {
  const changes = changeFeed ? PHONES : 0;
  if (b.live !== PHONES || b.rows !== PHONES || b.changes !== changes)
    throw new Error(
      `${what} after the ${wave}: ${b.live} live bindings, ${b.rows} rows, ${b.changes} changes ` +
        `(expected ${PHONES}, ${PHONES}, ${changes})`,
    );
}
/** Average ms of each step of the store's batches (registrations_batch_step_seconds). */
function stepMs(metrics: string): string {
  return (['read', 'plan', 'write'] as const)
    .map((step) => {
      const at = (suffix: string) =>
        metricSum(metrics, `registrations_batch_step_seconds_${suffix}{step="${step}"}`);
      return `${step} ${((at('sum') / at('count')) * 1000).toFixed(0)}`;
    })
    .join(' / ');
}

/**
 * BENCH_ANALYZE_EVERY_S=n: ANALYZE the tables every n seconds during a run, standing in for
 * autovacuum's autoanalyze (this box's Postgres runs with autovacuum = off, so tables that grow
 * from empty during a run are planned without statistics).
 */
function analyzeMeanwhile(pool: Pool): () => void {
  const every = Number(process.env.BENCH_ANALYZE_EVERY_S ?? 0);
  if (!every) return () => undefined;
  const timer = setInterval(() => {
    pool
      .query('ANALYZE registrations, registration_history, extensions, accounts')
      .catch(() => undefined);
  }, every * 1000);
  return () => clearInterval(timer);
}

async function main(): Promise<void> {
  const started = performance.now();
  await ensureVhost(BENCH_AMQP_URL);
  let pool = await freshDatabase((m) => console.log(m));
  const conn = await amqp.connect(BENCH_AMQP_URL);
  // Start 10 min ahead: no binding expires during the bench, so the app's sweeper (which the
  // bare pipeline lacks) has nothing to do.
  const t = performance.now();
  const waves = kamailioWaves(PHONES, ACCOUNTS, (Date.now() + 600_000) * 1000);
  console.log(
    changeFeed
      ? 'change feed on (the default): the app with its outbox and relay, the bare pipeline writing and publishing the same outbox rows'
      : 'change feed off (--no-change-feed; CHANGE_FEED_ENABLED=false for the app)',
  );
  console.log(
    `waves: ${fmt(PHONES)} Kamailio reg_success First-Registration (storm), then ${fmt(PHONES)} refreshes, ` +
      `${fmt(ACCOUNTS)} accounts in Custom-Channel-Vars; built in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  const queues = PRODUCT_QUEUES.map((q) => q.name);

  /** A fresh database, only this pipeline's queues: the storm's starting point. */
  const reset = async (pipeline: 'bare' | 'product') => {
    await pool.end();
    pool = await freshDatabase();
    await resetQueues(conn, pipeline);
  };
  /** The wave waiting in the queues, then a fresh checkpoint. */
  const load = async (wave: Wave) => {
    const ms = await fillQueues(conn, waves[wave], queues);
    await pool.query('CHECKPOINT');
    return `preload ${(ms / 1000).toFixed(1)} s`;
  };
  const bare: Record<SqlVariant, Record<Wave, number[]>> = {
    values: { storm: [], refresh: [] },
    json: { storm: [], refresh: [] },
  };
  const ingest: Record<Wave, number[]> = { storm: [], refresh: [] };
  /** The ceiling's statement: the faster of round 1 (both waves), kept for the later rounds. */
  let ceiling: SqlVariant = 'values';

  for (let round = 1; round <= rounds; round++) {
    // Round 1 tries both statements; later rounds run the faster one (the ceiling).
    const variants: SqlVariant[] = round === 1 || only === 'bare' ? ['values', 'json'] : [ceiling];
    for (const variant of only === 'ingest' ? [] : variants) {
      await reset('bare');
      for (const wave of WAVES) {
        const pre = await load(wave);
        // The same observer of the change feed as in the product's storm: the broker routes and
        // delivers its 100,000 events in both runs, not only in the product's.
        const feed =
          changeFeed && wave === 'storm' ? await startExchangeProbe(conn, pool) : undefined;
        const cpu0 = cpuSnapshot();
        const stopAnalyze = analyzeMeanwhile(pool);
        let r: Awaited<ReturnType<typeof runBare>>;
        try {
          r = await runBare(
            BENCH_AMQP_URL,
            BENCH_DATABASE_URL,
            queues,
            PHONES,
            variant,
            changeFeed,
            // After the last ack, the bare relay still running: the feed's last changes.
            feed && (async () => [await feed.delivered(FEED_WAIT_MS)]),
          );
        } finally {
          await feed?.close();
        }
        stopAnalyze();
        const cpu = cpuReport(cpu0, r.cpuAfter, process.pid, r.pgPids);
        const rate = (PHONES / r.ms) * 1000;
        bare[variant][wave].push(rate);
        const b = await countBindings(pool);
        console.log(
          `round ${round} bare (${variant}) ${wave}: ${fmt(rate)} events/s (${(r.ms / 1000).toFixed(1)} s; ${pre}; ` +
            `${r.batches} batches, statement ${(r.statementMs / r.batches).toFixed(0)} ms avg; ${cpu}; ` +
            `live bindings ${fmt(b.live)}, history ${fmt(b.history)}, changes ${fmt(b.changes)})`,
        );
        for (const line of r.afterLines)
          console.log(`round ${round} bare (${variant}) ${wave} ${line}`);
        checkWave(b, wave, `bare (${variant})`);
      }
    }
    if (round === 1 && only !== 'ingest') {
      const total = (v: SqlVariant) => WAVES.reduce((n, w) => n + 1 / median(bare[v][w]), 0);
      ceiling = total('values') <= total('json') ? 'values' : 'json';
    }

    if (only === 'bare') continue;
    await reset('product');
    for (const wave of WAVES) {
      const pre = await load(wave);
      const stopAnalyze = analyzeMeanwhile(pool);
      const feed =
        changeFeed && wave === 'storm' ? await startExchangeProbe(conn, pool) : undefined;
      const env = {
        DATABASE_URL: BENCH_DATABASE_URL,
        AMQP_URL: BENCH_AMQP_URL,
        QUEUE_PREFIX,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', // production's default
        ...(changeFeed ? {} : { CHANGE_FEED_ENABLED: 'false' }),
      };
      const ingestPort = Number(process.env.BENCH_INGEST_PORT ?? 18_091);
      // The product's storm only: the API app and SSE clients of SSE_ACCOUNTS accounts.
      const sse =
        changeFeed && wave === 'storm'
          ? await startSseProbe({
              pool,
              accounts: accountsOf(waves.storm, Math.min(SSE_ACCOUNTS, ACCOUNTS)),
              port: Number(process.env.BENCH_API_PORT ?? 18_092),
              env: { ...env, INGEST_PORT: String(ingestPort) },
            })
          : undefined;
      let p: Awaited<ReturnType<typeof runProduct>>;
      try {
        p = await runProduct({
          env,
          port: ingestPort,
          total: PHONES,
          conn,
          queues,
          timeoutMs: Number(process.env.BENCH_TIMEOUT_S ?? 240) * 1000,
          // The ingest's backends; the API's are reported with it.
          backends: () => benchBackends(pool, { app: API_APP_NAME, match: false }),
          api: sse,
          // After the last commit, the app still running: the feed's last changes, on the
          // exchange (published by the relay after that commit) and on the SSE clients.
          afterLastCommit: async () => [
            ...(feed ? [await feed.delivered(FEED_WAIT_MS)] : []),
            ...(sse ? [await sse.report(FEED_WAIT_MS)] : []),
          ],
        });
      } finally {
        await feed?.close();
        await sse?.close(); // the API never outlives its wave, whatever failed
      }
      stopAnalyze();
      const rate = (PHONES / p.ms) * 1000;
      ingest[wave].push(rate);
      const dead = metricSum(p.metrics, 'registrations_dead_lettered_total');
      const commits = metricSum(p.metrics, 'registrations_commit_seconds_count');
      const batches = metricSum(p.metrics, 'registrations_batch_size_count');
      const b = await countBindings(pool);
      console.log(
        `round ${round} ingest ${wave}: ${fmt(rate)} events/s (${(p.ms / 1000).toFixed(1)} s; ${pre}; ` +
          `${fmt(batches)} batches of ${(metricSum(p.metrics, 'registrations_batch_size_sum') / batches).toFixed(0)} avg, ` +
          `commit ${((metricSum(p.metrics, 'registrations_commit_seconds_sum') / commits) * 1000).toFixed(0)} ms avg ` +
          `(${stepMs(p.metrics)}); ` +
          `${p.cpu}; dead-lettered ${dead}; live bindings ${fmt(b.live)}, history ${fmt(b.history)}, changes ${fmt(b.changes)})`,
      );
      for (const line of p.afterLines) console.log(`round ${round} ingest ${wave} ${line}`);
      if (dead > 0) throw new Error(`${dead} messages were dead-lettered; see ${p.log}`);
      checkWave(b, wave, 'ingest');
    }
  }

  await conn.close();
  await pool.end();
  console.log(`bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const other: SqlVariant = ceiling === 'values' ? 'json' : 'values';
  const ratios: number[] = [];
  for (const wave of WAVES) {
    const b = bare[ceiling][wave];
    const i = ingest[wave];
    if (b.length > 0)
      console.log(
        `${wave} bare: ${VARIANT_LABEL[ceiling]} ${b.map(fmt).join(', ')} events/s ` +
          `(round 1, ${VARIANT_LABEL[other]}: ${bare[other][wave].map(fmt).join(', ')}); median ${fmt(median(b))}`,
      );
    if (i.length > 0)
      console.log(`${wave} ingest: ${i.map(fmt).join(', ')} events/s; median ${fmt(median(i))}`);
    if (b.length > 0 && i.length > 0) {
      // Informative: each ingest run against the ceiling's run of the same round (this box's
      // speed drifts between rounds). The verdict stays the ratio of the medians.
      if (b.length === i.length)
        console.log(
          `${wave} per-round ratios: ${i.map((x, k) => (x / b[k]).toFixed(2)).join(', ')}`,
        );
      const ratio = median(i) / median(b);
      ratios.push(ratio);
      console.log(`${wave} ratio: ${ratio.toFixed(2)}`);
    }
  }
  if (ratios.length === WAVES.length)
    console.log(`ingest ratio: ${Math.min(...ratios).toFixed(2)}`);
}

main().catch((e: unknown) => {
  console.error(`bench:ingest failed: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
