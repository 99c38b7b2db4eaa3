// npm run bench:kamailio [-- --phones 20000 --realms 20 --rate 20000 --limit 200]: issue 6,
// "Must show 4". Real phones (sipp) register with a real Kamailio (kazoo module), which
// publishes every reg_success to the real ingest app (`node dist/apps/ingest/src/main.js`, its
// own database, vhost and queues). Two waves: every phone registers, then every phone refreshes.
// sipp runs closed-loop: at most --limit REGISTERs in flight and a rate cap above what Kamailio
// can do, so it sends as fast as Kamailio answers (the highest rate Kamailio sustains on this box).
// Per wave: sipp's rate, retransmissions and failures, and the lag from the last 200 OK (sipp's
// response-time trace) to the moment the wave's last commit shows (polled every 5 ms), and the
// per-event lag (the k-th 200 OK to the k-th event committed, sampled every 25 ms during the
// wave: p50/p99). At the end the product's live count must equal Kamailio's.
// The probes must not take the CPU the product needs (2 cores, shared with Kamailio): counting
// 20,000 rows takes Postgres 18–24 ms, so polled every 5–25 ms it took most of a core and was
// most of the register wave's lag (423–585 ms against 85 ms, 2026-12-07). The register wave
// reads the per-account live counters the product's trigger keeps in the same transaction
// (account_live_counts: 0.5 ms); the refresh wave reads the ingest's committed-events counter
// (/metrics, counted when a batch's commit returned), and its end is then confirmed by one row
// count (polled again until it agrees). `--timeline` prints 200 OKs and commits every 250 ms. Last lines: `per-event lag p99 ms: <n>` and
// `lag ms: <n>`, the larger of the two waves'. Figures go to docs/benchmarks.md ("Kamailio load").
import 'reflect-metadata';
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as amqp from 'amqplib';
import { Pool } from 'pg';
import { APP_NODE_FLAGS } from '@app/config/node-flags';
import { topology } from '@app/messaging/topology';
import { createDataSource } from '@app/persistence/data-source';
import { initializeDataSource } from '@app/persistence/database-setup';
import { findFreePort, KamailioHandle, startKamailio } from '../../test/kamailio/kamailio-harness';
import { makePhones } from '../../test/sipp/make-phones';
import { runSipp, SippResult } from '../../test/sipp/sipp';
import { cpuSeconds, cpuSnapshot } from '../support/proc-cpu';
import { metricSum } from '../../scripts/support/prometheus-text';
import { ensureVhost } from '../../scripts/support/rabbitmq-vhost';
import { median } from '../support/stats';

const DATABASE_URL =
  process.env.KAMAILIO_BENCH_DATABASE_URL ??
  'postgres://postgres@127.0.0.1:5432/registrations_kamailio_bench';
const AMQP_URL =
  process.env.KAMAILIO_BENCH_AMQP_URL ??
  'amqp://guest:guest@127.0.0.1:5672/registrations-kamailio-bench';
const QUEUE_PREFIX = 'regkambench';
const INGEST_MAIN = resolve(__dirname, '../../apps/ingest/src/main.js');

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const PHONES = arg('phones', 20_000);
const REALMS = arg('realms', 20);
const RATE = arg('rate', 20_000);
const LIMIT = arg('limit', 200);
const TIMELINE = process.argv.includes('--timeline');
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Wave {
  name: string;
  sipp: SippResult;
  lagMs: number;
  /** Per-event lag percentiles (ms): k-th 200 OK to the k-th event committed. */
  eventLag: { p50: number; p99: number; max: number };
  /** 200 OKs per second from sipp's start to its last 200 OK. */
  rate: number;
  cpu: string;
}

async function main(): Promise<void> {
  if (PHONES < 10_000) console.warn(`warning: --phones ${PHONES}: the issue asks for 10,000+`);
  await ensureVhost(AMQP_URL);
  const ds = createDataSource(DATABASE_URL, 1, 'registrations-kamailio-bench');
  await initializeDataSource(ds, DATABASE_URL, () => undefined);
  await ds.destroy();
  const pool = new Pool({ connectionString: DATABASE_URL, max: 2 });
  await pool.query(
    'TRUNCATE registrations, registration_history, extensions, accounts RESTART IDENTITY CASCADE',
  );
  await deleteOurQueues();

  const ingestPort = await findFreePort();
  const ingest = await startIngestProcess(ingestPort);
  let kam: KamailioHandle | undefined;
  try {
    kam = await startKamailio({ amqpUrl: AMQP_URL, sipPort: await findFreePort() });
    const sippPort = await findFreePort();
    const phones = makePhones({
      count: PHONES,
      realms: REALMS,
      domain: `p${kam.sipPort}.bench.test`,
    });
    console.log(
      `${fmt(PHONES)} phones over ${REALMS} realms; sipp closed-loop: at most ${LIMIT} REGISTERs ` +
        `in flight, rate cap ${fmt(RATE)}/s; Kamailio ${kam.sipPort} (log ${kam.logPath}); ` +
        `ingest ${ingest.pid} (log ${ingest.log}); load average ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
    );
    const liveCount = async () =>
      Number(
        (
          await pool.query(
            `SELECT count(*)::int AS n FROM registrations WHERE ended_at IS NULL AND expires_at > now()`,
          )
        ).rows[0].n,
      );
    const refreshedRows = async () =>
      Number(
        (
          await pool.query(
            `SELECT count(*)::int AS n FROM registrations WHERE ended_at IS NULL AND refresh_count >= 1`,
          )
        ).rows[0].n,
      );
    // Cheap progress probes (see the header): what each wave has committed so far.
    const liveCounters = async () =>
      Number(
        (await pool.query(`SELECT coalesce(sum(n), 0)::int AS n FROM account_live_counts`)).rows[0]
          .n,
      );
    const committedEvents = async () =>
      metricSum(
        await fetch(`http://127.0.0.1:${ingestPort}/metrics`).then((r) => r.text()),
        'registrations_events_total',
      );
    const timed = (probe: () => Promise<number>, ms: number[]) => async () => {
      const t = performance.now();
      const n = await probe();
      ms.push(performance.now() - t);
      return n;
    };

    const waves: Wave[] = [];
    for (const [name, cseq] of [
      ['register', 1],
      ['refresh', 2],
    ] as const) {
      const cpu0 = cpuSnapshot();
      const eventsBefore = await committedEvents();
      // A /metrics answer costs the ingest ~2.7 ms of CPU: sampled less often than the counters.
      const [every, tailEvery] = name === 'register' ? [25, 5] : [50, 10];
      const probeMs: number[] = [];
      const progress = timed(
        name === 'register' ? liveCounters : async () => (await committedEvents()) - eventsBefore,
        probeMs,
      );
      // The end, as the database shows it (the refresh wave's counter is the ingest's own).
      const confirmed =
        name === 'register' ? async () => true : async () => (await refreshedRows()) >= PHONES;
      // Per-event lag: the wave's progress sampled every `every` ms while sipp runs (then every
      // `tailEvery` ms, below), matched in order with sipp's 200 OKs.
      const samples: { at: number; n: number }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const n = await progress();
          samples.push({ at: Date.now(), n });
          if (n >= PHONES) break;
          await sleep(every);
        }
      })();
      const sipp = await runSipp({
        scenario: 'register',
        phones,
        port: kam.sipPort,
        localPort: sippPort,
        rate: RATE,
        limit: LIMIT,
        cseq,
        traceRtt: true,
        timeoutSec: 600,
      });
      sampling = false;
      await sampler;
      if (sipp.exitCode !== 0 || sipp.failed > 0 || sipp.successful !== PHONES)
        throw new Error(
          `sipp ${name}: exit ${sipp.exitCode}, ${sipp.successful} ok, ${sipp.failed} failed: ${sipp.errors}`,
        );
      const last200 = sipp.lastResponseAt ?? sipp.endedAt;
      // The wave is committed once the database shows every phone; the answer's arrival time is
      // an upper bound of the last commit (and the poll's resolution is ~5 ms plus the query).
      let matchedAt = 0;
      const deadline = Date.now() + 120_000;
      while (!matchedAt) {
        const n = await progress();
        samples.push({ at: Date.now(), n }); // for the per-event lag too
        if (n >= PHONES) matchedAt = Date.now();
        else if (Date.now() > deadline) throw new Error(`${name}: the product never caught up`);
        else await sleep(tailEvery);
      }
      // A counter that ran ahead of the rows would be a product bug: wait for the rows, and
      // count the wave complete only when they show.
      while (!(await confirmed())) {
        if (Date.now() > deadline) throw new Error(`${name}: the rows never showed the wave`);
        await sleep(5);
        matchedAt = Date.now();
      }
      const wave: Wave = {
        name,
        sipp,
        lagMs: matchedAt - last200,
        eventLag: perEventLag(sipp.responseTimes ?? [], samples),
        rate: (PHONES / (last200 - sipp.startedAt)) * 1000,
        cpu: cpuLine(cpu0, ingest.pid),
      };
      waves.push(wave);
      if (TIMELINE) printTimeline(sipp, samples, matchedAt);
      console.log(
        `${name}: ${fmt(wave.rate)} REGISTER/s (${fmt(PHONES)} in ${((last200 - sipp.startedAt) / 1000).toFixed(2)} s), ` +
          `${sipp.failed} failed, ${fmt(sipp.retransmissions)} retransmissions; ` +
          `sipp exited ${sipp.endedAt - last200} ms after its last 200 OK; ` +
          `database complete ${wave.lagMs} ms after the last 200 OK ` +
          `(per event, 200 OK → committed: p50 ${wave.eventLag.p50} ms, p99 ${wave.eventLag.p99} ms, max ${wave.eventLag.max} ms) ` +
          `(the product kept ${fmt((PHONES / (matchedAt - sipp.startedAt)) * 1000)} events/s over the wave); ` +
          wave.cpu +
          `; ${probeMs.length} progress probes (${name === 'register' ? 'account_live_counts' : '/metrics'}, every ${every} ms, then ${tailEvery}), median ${median(probeMs).toFixed(1)} ms`,
      );
    }

    // The end state: the product's live bindings equal Kamailio's own contacts.
    const product = await liveCount();
    const kamailio = await kam.countContacts();
    const metrics = await fetch(`http://127.0.0.1:${ingestPort}/metrics`).then((r) => r.text());
    const events = metricSum(metrics, 'registrations_events_total');
    const dead = metricSum(metrics, 'registrations_dead_lettered_total');
    const batches = metricSum(metrics, 'registrations_batch_size_count');
    const commitMs = (metricSum(metrics, 'registrations_commit_seconds_sum') / batches) * 1000;
    console.log(
      `end: product ${fmt(product)} live bindings, Kamailio ${fmt(kamailio)} contacts; ` +
        `ingest consumed ${fmt(events)} events (${fmt(2 * PHONES)} REGISTERs answered), ` +
        `${fmt(batches)} batches, commit ${commitMs.toFixed(1)} ms avg, ${dead} dead-lettered`,
    );
    if (product !== kamailio || kamailio !== PHONES)
      throw new Error(`counts differ: product ${product}, Kamailio ${kamailio}, phones ${PHONES}`);
    if (dead > 0) throw new Error(`${dead} messages were dead-lettered; see ${ingest.log}`);
    console.log(`counts equal: ${fmt(product)}`);

    console.log(`per-event lag p99 ms: ${Math.max(...waves.map((w) => w.eventLag.p99))}`);
    console.log(`lag ms: ${Math.max(...waves.map((w) => w.lagMs))}`);
  } finally {
    await kam?.stop();
    await ingest.stop();
    await pool.end();
  }
}

/** 200 OKs answered and events committed every 250 ms of a wave (--timeline). */
function printTimeline(sipp: SippResult, samples: { at: number; n: number }[], end: number) {
  const oks = sipp.responseTimes ?? [];
  for (let t = 0; t < end - sipp.startedAt + 250; t += 250) {
    const at = sipp.startedAt + t;
    const ok = oks.filter((x) => x <= at).length;
    const db = samples.filter((x) => x.at <= at).pop()?.n ?? 0;
    console.log(`  +${t} ms: ${fmt(ok)} answered, ${fmt(db)} committed, ${fmt(ok - db)} behind`);
  }
}

/**
 * The k-th 200 OK against the first sample showing k events committed (FIFO: Kamailio publishes
 * in the order it answers, one queue): percentiles over every event, to the sampling's 25 ms.
 */
function perEventLag(okTimes: number[], samples: { at: number; n: number }[]): Wave['eventLag'] {
  const lags: number[] = [];
  let s = 0;
  for (let k = 0; k < okTimes.length; k++) {
    while (s < samples.length && samples[s].n < k + 1) s++;
    if (s === samples.length) break;
    lags.push(samples[s].at - okTimes[k]);
  }
  lags.sort((a, b) => a - b);
  const at = (q: number) =>
    lags.length ? lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] : NaN;
  return { p50: at(0.5), p99: at(0.99), max: lags.length ? lags[lags.length - 1] : NaN };
}

const OURS = new Set(['kamailio', 'postgres', 'beam.smp', 'sipp']);

/** CPU seconds of the wave per process (sipp has exited by then: not counted). */
function cpuLine(before: ReturnType<typeof cpuSnapshot>, ingestPid: number) {
  const after = cpuSnapshot();
  const s = (pick: (pid: number, comm: string) => boolean) =>
    cpuSeconds(before, after, pick).toFixed(1);
  return (
    `CPU s: kamailio ${s((_, c) => c === 'kamailio')}, ingest ${s((pid) => pid === ingestPid)}, ` +
    `postgres ${s((_, c) => c === 'postgres')}, rabbitmq ${s((_, c) => c === 'beam.smp')}, ` +
    // Anything else on the box (other people's runs) competes for the same 2 cores.
    `everything else ${s((pid, c) => !OURS.has(c) && pid !== ingestPid && pid !== process.pid)}`
  );
}

/** Our queues from an earlier run would hold stale messages: the ingest app declares them anew. */
async function deleteOurQueues(): Promise<void> {
  const t = topology({ kazooExchangeDurable: false, queuePrefix: QUEUE_PREFIX });
  const conn = await amqp.connect(AMQP_URL);
  try {
    const ch = await conn.createChannel();
    for (const q of [t.kazooQueue, t.freeswitchQueue, t.deadLetterQueue])
      await ch.deleteQueue(q.name);
    await ch.close();
  } finally {
    await conn.close();
  }
}

/** The ingest app as production runs it, ready once /readyz answers and it consumes its queue. */
async function startIngestProcess(port: number) {
  const log = join(tmpdir(), `registrations-kamailio-bench-ingest-${process.pid}.log`);
  const out = createWriteStream(log);
  const child: ChildProcess = spawn(process.execPath, [...APP_NODE_FLAGS.ingest, INGEST_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL,
      AMQP_URL,
      QUEUE_PREFIX,
      INGEST_PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', // production's default
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }
    out.end();
  };
  const queue = `${QUEUE_PREFIX}.kazoo`;
  const conn = await amqp.connect(AMQP_URL);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`the ingest app exited during start-up; see ${log}`);
      if (Date.now() > deadline) throw new Error(`the ingest app did not get ready; see ${log}`);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      const q = await ch.checkQueue(queue).catch(() => undefined);
      await ch.close().catch(() => undefined);
      if (ready && q && q.consumerCount > 0) break;
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    await conn.close().catch(() => undefined);
  }
  return { pid: child.pid ?? -1, log, stop };
}

main().catch((e: unknown) => {
  console.error(`bench:kamailio failed: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
