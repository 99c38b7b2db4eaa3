// npm run bench:ingest [-- --rounds N]: issue 2, "Must show 3". The same 200,000 mixed events
// (100,000 AORs, Kazoo and FreeSWITCH) are preloaded before every run; runs alternate between
// the bare pipeline (the ceiling) and the real ingest app. Prints events/s per run, medians,
// and as its last line `ingest ratio: <ingest/bare>`. Figures go to docs/benchmarks.md.
//
// What both sides write: by default what issue 2 names (bindings, history; the app also its
// extensions), so the app runs with CHANGE_FEED_ENABLED=false. With --change-feed the app runs
// with its change feed on (its default: outbox rows in every batch, the relay publishing them)
// and the bare pipeline writes the same outbox rows in its statement and publishes them as the
// relay does (bare-pipeline.ts relay()).
//
// Options: --rounds N (2), --only bare|ingest, --change-feed. Environment: BENCH_DATABASE_URL, BENCH_AMQP_URL,
// BENCH_QUEUE_PREFIX, BENCH_INGEST_PORT, BENCH_TIMEOUT_S, BENCH_ANALYZE_EVERY_S, BENCH_NODE_ARGS;
// the app's own variables (INGEST_BATCH_SIZE, INGEST_PREFETCH, CHANGE_FEED_ENABLED…) pass through.
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import * as amqp from 'amqplib';
import type { Pool } from 'pg';
import { mixedStream } from '../../scripts/traffic/traffic-generator';
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
import { metricSum } from '../../scripts/support/prometheus-text';
import { ensureVhost } from '../../scripts/support/rabbitmq-vhost';

const AORS = 100_000;
const EVENTS = 200_000;
const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const rounds = arg('rounds', 2);
// --only bare|ingest: one pipeline alone, for investigating (no ratio then).
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined;
const changeFeed = process.argv.includes('--change-feed');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
/** Every AOR registered at least once; only a few percent end up unregistered or expired. */
function checkLive(live: number, what: string): void {
  if (live < AORS * 0.8 || live > AORS)
    throw new Error(`${what}: ${live} live bindings for ${AORS} AORs is not plausible`);
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
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

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
  // bare pipeline lacks) has nothing to do in the later runs either.
  const t = performance.now();
  const stream = mixedStream({
    aors: AORS,
    eventsTotal: EVENTS,
    startUs: (Date.now() + 600_000) * 1000,
  });
  const mix = new Map<string, number>();
  for (const m of stream)
    mix.set(`${m.origin}/${m.kind}`, (mix.get(`${m.origin}/${m.kind}`) ?? 0) + 1);
  console.log(
    changeFeed
      ? 'change feed on: the app with its outbox and relay, the bare pipeline writing and publishing the same outbox rows'
      : 'change feed off (CHANGE_FEED_ENABLED=false): both write bindings and history',
  );
  console.log(
    `stream: ${fmt(EVENTS)} events over ${fmt(AORS)} AORs, built in ${((performance.now() - t) / 1000).toFixed(1)} s: ` +
      [...mix]
        .sort()
        .map(([k, n]) => `${k} ${fmt(n)}`)
        .join(', '),
  );

  /** A fresh database, only this pipeline's queues, the stream waiting in them, a fresh checkpoint. */
  const setUp = async (pipeline: 'bare' | 'product', queues: string[]) => {
    await pool.end();
    pool = await freshDatabase();
    await resetQueues(conn, pipeline);
    const ms = await fillQueues(conn, stream, queues);
    await pool.query('CHECKPOINT');
    return `preload ${(ms / 1000).toFixed(1)} s`;
  };
  const bare: Record<SqlVariant, number[]> = { values: [], json: [] };
  const ingest: number[] = [];
  /** The ceiling's statement: the faster of round 1, kept for the later rounds and the ratio. */
  let ceiling: SqlVariant = 'values';

  for (let round = 1; round <= rounds; round++) {
    // Round 1 tries both statements; later rounds run the faster one (the ceiling).
    const variants: SqlVariant[] = round === 1 || only === 'bare' ? ['values', 'json'] : [ceiling];
    for (const variant of only === 'ingest' ? [] : variants) {
      const pre = await setUp(
        'bare',
        PRODUCT_QUEUES.map((q) => q.name),
      );
      const cpu0 = cpuSnapshot();
      const stopAnalyze = analyzeMeanwhile(pool);
      const r = await runBare(
        BENCH_AMQP_URL,
        BENCH_DATABASE_URL,
        PRODUCT_QUEUES.map((q) => q.name),
        EVENTS,
        variant,
        changeFeed,
      );
      stopAnalyze();
      const cpu = cpuReport(cpu0, r.cpuAfter, process.pid, r.pgPids);
      const rate = (EVENTS / r.ms) * 1000;
      bare[variant].push(rate);
      const b = await countBindings(pool);
      console.log(
        `round ${round} bare (${variant}): ${fmt(rate)} events/s (${(r.ms / 1000).toFixed(1)} s; ${pre}; ` +
          `${r.batches} batches, statement ${(r.statementMs / r.batches).toFixed(0)} ms avg; ${cpu}; ` +
          `live bindings ${fmt(b.live)}, history ${fmt(b.history)}, changes ${fmt(b.changes)})`,
      );
      checkLive(b.live, `bare (${variant})`);
    }
    if (round === 1 && only !== 'ingest')
      ceiling = median(bare.values) >= median(bare.json) ? 'values' : 'json';

    if (only === 'bare') continue;
    const pre = await setUp(
      'product',
      PRODUCT_QUEUES.map((q) => q.name),
    );
    const stopAnalyze = analyzeMeanwhile(pool);
    const p = await runProduct({
      env: {
        DATABASE_URL: BENCH_DATABASE_URL,
        AMQP_URL: BENCH_AMQP_URL,
        QUEUE_PREFIX,
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', // production's default
        CHANGE_FEED_ENABLED: String(changeFeed),
      },
      port: Number(process.env.BENCH_INGEST_PORT ?? 18_091),
      total: EVENTS,
      conn,
      queues: PRODUCT_QUEUES.map((q) => q.name),
      timeoutMs: Number(process.env.BENCH_TIMEOUT_S ?? 240) * 1000,
      backends: () => benchBackends(pool),
    });
    stopAnalyze();
    const rate = (EVENTS / p.ms) * 1000;
    ingest.push(rate);
    const dead = metricSum(p.metrics, 'registrations_dead_lettered_total');
    const commits = metricSum(p.metrics, 'registrations_commit_seconds_count');
    const batches = metricSum(p.metrics, 'registrations_batch_size_count');
    const b = await countBindings(pool);
    console.log(
      `round ${round} ingest: ${fmt(rate)} events/s (${(p.ms / 1000).toFixed(1)} s; ${pre}; ` +
        `${fmt(batches)} batches of ${(metricSum(p.metrics, 'registrations_batch_size_sum') / batches).toFixed(0)} avg, ` +
        `commit ${((metricSum(p.metrics, 'registrations_commit_seconds_sum') / commits) * 1000).toFixed(0)} ms avg ` +
        `(${stepMs(p.metrics)}); ` +
        `${p.cpu}; dead-lettered ${dead}; live bindings ${fmt(b.live)}, history ${fmt(b.history)}, changes ${fmt(b.changes)})`,
    );
    if (dead > 0) throw new Error(`${dead} messages were dead-lettered; see ${p.log}`);
    checkLive(b.live, 'ingest');
  }

  await conn.close();
  await pool.end();
  console.log(`bench took ${((performance.now() - started) / 1000).toFixed(0)} s`);
  const other: SqlVariant = ceiling === 'values' ? 'json' : 'values';
  if (bare[ceiling].length > 0) {
    console.log(
      `ceiling: ${VARIANT_LABEL[ceiling]} (runs: ${bare[ceiling].map(fmt).join(', ')} events/s); ` +
        `in round 1 it beat ${VARIANT_LABEL[other]} (${bare[other].map(fmt).join(', ')})`,
    );
    console.log(`bare: ${Math.round(median(bare[ceiling]))} events/s`);
  }
  if (ingest.length > 0) {
    console.log(`ingest runs: ${ingest.map(fmt).join(', ')} events/s`);
    console.log(`ingest: ${Math.round(median(ingest))} events/s`);
  }
  if (bare[ceiling].length > 0 && ingest.length > 0) {
    // Informative: each ingest run against the ceiling's run of the same round (this box's
    // speed drifts between rounds). The verdict stays the ratio of the medians.
    if (bare[ceiling].length === ingest.length)
      console.log(
        `per-round ratios: ${ingest.map((x, i) => (x / bare[ceiling][i]).toFixed(2)).join(', ')}`,
      );
    console.log(`ingest ratio: ${(median(ingest) / median(bare[ceiling])).toFixed(2)}`);
  }
}

main().catch((e: unknown) => {
  console.error(`bench:ingest failed: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
