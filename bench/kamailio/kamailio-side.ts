// One side of bench:kamailio from a clean start: a fresh database (dropped, migrated by the
// product's start-up path), only this side's queues, a fresh Kamailio (empty location table)
// and the side's consumer (the product's ingest app or the bare pipeline), then the two waves:
// every phone registers, then refreshes. Each wave is timed from sipp's 200 OKs to the moment
// the database shows it complete (see bench-kamailio.ts's header for the probes), with the CPU
// seconds of each process; at the end Kamailio's contacts must equal the side's live bindings.
import { availableParallelism, loadavg } from 'node:os';
import * as amqp from 'amqplib';
import type { Pool } from 'pg';
import { topology } from '@app/messaging/topology';
import {
  childPids,
  findFreePort,
  KamailioHandle,
  startKamailio,
} from '../../test/kamailio/kamailio-harness';
import { makePhones } from '../../test/sipp/make-phones';
import { runSipp, SippResult } from '../../test/sipp/sipp';
import { cpuSeconds, cpuSnapshot, machineBusySeconds } from '../support/proc-cpu';
import { median } from '../support/stats';
import { freshDatabase, resetQueues } from '../ingest/bench-env';
import { SqlVariant } from '../ingest/bare-pipeline';
import { bareConsumer, productConsumer, WaveConsumer } from './wave-consumer';
import { cpuLine, EventLag, perEventLag, printTimeline, WaveCpu } from './wave-figures';

export type Side = 'product' | 'bare';
export type WaveName = 'register' | 'refresh';

export interface SideSettings {
  phones: number;
  realms: number;
  rate: number;
  limit: number;
  timeline: boolean;
  databaseUrl: string;
  amqpUrl: string;
  queuePrefix: string;
  bareSql: SqlVariant;
}

export interface WaveResult {
  name: WaveName;
  /** Last 200 OK → the database showed the wave complete. */
  lagMs: number;
  /** Per-event lag percentiles (ms): k-th 200 OK to the k-th event committed. */
  eventLag: EventLag;
  /** 200 OKs per second from sipp's start to its last 200 OK. */
  rate: number;
  cpu: WaveCpu;
  /** The whole machine's busy share from the wave's start to its completion (0–1). */
  busy: number;
}

export interface SideResult {
  side: Side;
  round: number;
  waves: WaveResult[];
  /** Live bindings at the end (equal to Kamailio's contacts, or the side threw). */
  live: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const count = async (pool: Pool, sql: string) => Number((await pool.query(sql)).rows[0].n);
// Shared services (ours and other people's in one process set), and our sipp.
const SHARED = new Set(['postgres', 'beam.smp', 'sipp']);

export async function runSide(side: Side, round: number, s: SideSettings): Promise<SideResult> {
  const tag = `round ${round} ${side}`;
  const pool = await freshDatabase(() => undefined, s.databaseUrl);
  // pool.end() resolves before the server has seen every connection go: the next side's
  // DROP DATABASE … WITH (FORCE) may still terminate one, which must not crash the bench.
  pool.on('error', () => undefined);
  const conn = await amqp.connect(s.amqpUrl);
  const topo = topology({ kazooExchangeDurable: false, queuePrefix: s.queuePrefix });
  let consumer: WaveConsumer | undefined;
  let kam: KamailioHandle | undefined;
  try {
    await resetQueues(conn, side, topo);
    consumer =
      side === 'product' ? await productConsumer(s, pool) : bareConsumer(s, pool, conn, s.phones);
    kam = await startKamailio({ amqpUrl: s.amqpUrl, sipPort: await findFreePort() });
    // Our Kamailio: its main process and the workers it forked (others may run theirs).
    const kamailioPids = new Set([kam.pid, ...childPids(kam.pid)]);
    const sippPort = await findFreePort();
    const phones = makePhones({
      count: s.phones,
      realms: s.realms,
      domain: `p${kam.sipPort}.bench.test`,
    });
    console.log(
      `${tag}: Kamailio ${kam.sipPort} (log ${kam.logPath}); load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    const waves: WaveResult[] = [];
    for (const [name, cseq] of [
      ['register', 1],
      ['refresh', 2],
    ] as const) {
      await consumer.startWave();
      const cpu0 = cpuSnapshot();
      const [busy0, t0] = [machineBusySeconds(), Date.now()];
      // Cheap probes (see the header): the register wave reads the trigger-kept live counters
      // (whoever writes), the refresh wave the consumer's own committed-events count (the
      // product's /metrics costs its ingest ~2.7 ms of CPU: sampled less often).
      const [every, tailEvery] = name === 'register' ? [25, 5] : [50, 10];
      const probeMs: number[] = [];
      const progress = async () => {
        const t = performance.now();
        const n =
          name === 'register'
            ? await count(pool, 'SELECT coalesce(sum(n), 0)::int AS n FROM account_live_counts')
            : await consumer!.committed();
        probeMs.push(performance.now() - t);
        return n;
      };
      // The end, as the rows show it (the refresh wave's counter is the consumer's own).
      const confirmed = async () =>
        name === 'register' ||
        (await count(
          pool,
          'SELECT count(*)::int AS n FROM registrations WHERE ended_at IS NULL AND refresh_count >= 1',
        )) >= s.phones;
      // Per-event lag: progress sampled every `every` ms while sipp runs (then every
      // `tailEvery` ms), matched in order with sipp's 200 OKs.
      const samples: { at: number; n: number }[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const n = await progress();
          samples.push({ at: Date.now(), n });
          if (n >= s.phones) break;
          await sleep(every);
        }
      })();
      let sipp: SippResult;
      try {
        sipp = await runSipp({
          scenario: 'register',
          phones,
          port: kam.sipPort,
          localPort: sippPort,
          rate: s.rate,
          limit: s.limit,
          cseq,
          traceRtt: true,
          timeoutSec: 600,
        });
      } finally {
        sampling = false;
        await sampler;
      }
      if (sipp.exitCode !== 0 || sipp.failed > 0 || sipp.successful !== s.phones)
        throw new Error(
          `${tag} ${name}: sipp exit ${sipp.exitCode}, ${sipp.successful} ok, ${sipp.failed} failed: ${sipp.errors}`,
        );
      const last200 = sipp.lastResponseAt ?? sipp.endedAt;
      // Complete once the database shows every phone; the answer's arrival time is an upper
      // bound of the last commit (the poll's resolution is ~5 ms plus the query).
      let matchedAt = 0;
      const deadline = Date.now() + 120_000;
      while (!matchedAt) {
        const n = await progress();
        samples.push({ at: Date.now(), n }); // for the per-event lag too
        if (n >= s.phones) matchedAt = Date.now();
        else if (Date.now() > deadline) throw new Error(`${tag} ${name}: never caught up`);
        else await sleep(tailEvery);
      }
      // A counter that ran ahead of the rows would be a bug: complete only when the rows show.
      while (!(await confirmed())) {
        if (Date.now() > deadline) throw new Error(`${tag} ${name}: the rows never showed it`);
        await sleep(5);
        matchedAt = Date.now();
      }
      const busy =
        (machineBusySeconds() - busy0) / (((Date.now() - t0) / 1000) * availableParallelism());
      const end = await consumer.endWave();
      const sec = (pick: (pid: number, comm: string) => boolean) =>
        cpuSeconds(cpu0, end.cpuAfter, pick);
      const { pid } = consumer;
      const cpu: WaveCpu = {
        kamailio: sec((p) => kamailioPids.has(p)),
        consumer: sec((p) => p === pid),
        postgres: sec((p) => end.pgPids.includes(p)),
        postgresAll: sec((_, c) => c === 'postgres'),
        rabbitmq: sec((_, c) => c === 'beam.smp'),
        other: sec(
          (p, c) => !SHARED.has(c) && !kamailioPids.has(p) && p !== pid && p !== process.pid,
        ),
      };
      const wave: WaveResult = {
        name,
        lagMs: matchedAt - last200,
        eventLag: perEventLag(sipp.responseTimes ?? [], samples),
        rate: (s.phones / (last200 - sipp.startedAt)) * 1000,
        cpu,
        busy,
      };
      waves.push(wave);
      if (s.timeline) printTimeline(`${tag} ${name}`, sipp, samples, matchedAt);
      console.log(
        `${tag} ${name}: ${fmt(wave.rate)} REGISTER/s (${fmt(s.phones)} in ${((last200 - sipp.startedAt) / 1000).toFixed(2)} s), ` +
          `${sipp.failed} failed, ${fmt(sipp.retransmissions)} retransmissions; ` +
          `sipp exited ${sipp.endedAt - last200} ms after its last 200 OK; ` +
          `database complete ${wave.lagMs} ms after the last 200 OK ` +
          `(per event, 200 OK → committed: p50 ${wave.eventLag.p50} ms, p99 ${wave.eventLag.p99} ms, max ${wave.eventLag.max} ms); ` +
          `${end.batches}; ${cpuLine(consumer.label, cpu)}; machine ${(busy * 100).toFixed(0)} % busy; ` +
          `${probeMs.length} probes (${name === 'register' ? 'account_live_counts' : 'committed events'}, every ${every} ms, then ${tailEvery}), median ${median(probeMs).toFixed(1)} ms`,
      );
    }

    // The end state: this side's live bindings equal Kamailio's own contacts.
    const live = await count(
      pool,
      'SELECT count(*)::int AS n FROM registrations WHERE ended_at IS NULL AND expires_at > now()',
    );
    const kamailio = await kam.countContacts();
    console.log(
      `${tag} end: ${fmt(live)} live bindings, Kamailio ${fmt(kamailio)} contacts; ${await consumer.summary()}`,
    );
    if (live !== kamailio || kamailio !== s.phones)
      throw new Error(
        `${tag}: counts differ: ${side} ${live}, Kamailio ${kamailio}, phones ${s.phones}`,
      );
    return { side, round, waves, live };
  } finally {
    await kam?.stop();
    await consumer?.stop();
    await conn.close().catch(() => undefined);
    await pool.end();
  }
}
