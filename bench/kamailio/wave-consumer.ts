// What consumes Kamailio's reg_success during a bench:kamailio side: the product's ingest app
// (its own process, production defaults, running through both waves), or the bare pipeline of
// bench:ingest (runBare, in the bench's own process, started for each wave). Both are seen by
// the waves through the same few calls: ready before sipp starts, events committed so far, and
// at the wave's end the CPU snapshot and the Postgres backends that did the work.
import type { ChannelModel } from 'amqplib';
import type { Pool } from 'pg';
import { loadConfig } from '@app/config/config';
import { BareResult, runBare, SqlVariant, VARIANT_LABEL } from '../ingest/bare-pipeline';
import { CpuSnapshot, cpuSnapshot } from '../support/proc-cpu';
import { metricSum } from '../../scripts/support/prometheus-text';
import { findFreePort } from '../../test/kamailio/kamailio-harness';
import { consumers, startIngestProcess } from './ingest-process';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface WaveConsumer {
  /** What the CPU line calls it. */
  label: string;
  /** The node process doing the consuming (the bare pipeline's is the bench's own). */
  pid: number;
  /** Consuming the queue when this resolves: sipp may start. */
  startWave(): Promise<void>;
  /** Events committed since startWave (a commit returned). */
  committed(): Promise<number>;
  /** After the wave showed complete: the snapshot ending its CPU figures, backends, batches. */
  endWave(): Promise<{ cpuAfter: CpuSnapshot; pgPids: number[]; batches: string }>;
  /** The side's last check (the product's dead letters) and summary. */
  summary(): Promise<string>;
  stop(): Promise<void>;
}

export interface ConsumerSettings {
  databaseUrl: string;
  amqpUrl: string;
  queuePrefix: string;
  bareSql: SqlVariant;
}

/** Every backend on our database (the probes' too: both sides have them). */
async function ourBackends(pool: Pool): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  return rows.map((r) => r.pid);
}

export async function productConsumer(s: ConsumerSettings, pool: Pool): Promise<WaveConsumer> {
  const port = await findFreePort();
  const ingest = await startIngestProcess({ ...s, port });
  const metrics = () => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  const totals = (m: string) => ({
    events: metricSum(m, 'registrations_events_total'),
    batches: metricSum(m, 'registrations_batch_size_count'),
    commitS: metricSum(m, 'registrations_commit_seconds_sum'),
  });
  let before = totals('');
  return {
    label: 'ingest',
    pid: ingest.pid,
    startWave: async () => {
      before = totals(await metrics());
    },
    committed: async () => totals(await metrics()).events - before.events,
    endWave: async () => {
      const cpuAfter = cpuSnapshot();
      const now = totals(await metrics());
      const batches = now.batches - before.batches;
      return {
        cpuAfter,
        pgPids: await ourBackends(pool),
        batches: `${batches} batches, commit ${(((now.commitS - before.commitS) / batches) * 1000).toFixed(0)} ms avg`,
      };
    },
    summary: async () => {
      const m = await metrics();
      const dead = metricSum(m, 'registrations_dead_lettered_total');
      if (dead > 0) throw new Error(`${dead} messages were dead-lettered; see ${ingest.log}`);
      return `ingest ${ingest.pid} consumed ${totals(m).events} events, ${dead} dead-lettered (log ${ingest.log})`;
    },
    stop: () => ingest.stop(),
  };
}

/**
 * The ceiling: bench:ingest's bare pipeline on the product's Kamailio queue, with the change
 * feed as the product has it (outbox rows and its own relay when CHANGE_FEED_ENABLED, default
 * on). A new run per wave, each ending once it acked `phones` messages.
 */
export function bareConsumer(
  s: ConsumerSettings,
  pool: Pool,
  conn: ChannelModel,
  phones: number,
): WaveConsumer {
  const queue = `${s.queuePrefix}.kazoo`;
  const changeFeed = loadConfig(process.env).CHANGE_FEED_ENABLED;
  let run: Promise<BareResult> | undefined;
  let failed: Error | undefined;
  let committed = 0;
  return {
    label: 'bare (the bench process, with its probes)',
    pid: process.pid,
    startWave: async () => {
      committed = 0;
      const onCommit = (n: number) => (committed += n);
      const { amqpUrl, databaseUrl, bareSql } = s;
      run = runBare(
        amqpUrl,
        databaseUrl,
        [queue],
        phones,
        bareSql,
        changeFeed,
        undefined,
        onCommit,
      );
      run.catch((e: unknown) => (failed = e instanceof Error ? e : new Error(String(e))));
      const deadline = Date.now() + 10_000;
      while ((await consumers(conn, queue)) === 0) {
        if (failed) throw failed;
        if (Date.now() > deadline) throw new Error(`the bare pipeline never consumed ${queue}`);
        await sleep(10);
      }
    },
    committed: async () => {
      if (failed) throw failed;
      return committed;
    },
    endWave: async () => {
      const r = await run!;
      const pgPids = [...new Set([...r.pgPids, ...(await ourBackends(pool))])];
      const batches = `${r.batches} batches, statement ${(r.statementMs / r.batches).toFixed(0)} ms avg`;
      return { cpuAfter: r.cpuAfter, pgPids, batches };
    },
    summary: async () =>
      `bare pipeline (${VARIANT_LABEL[s.bareSql]}, change feed ${changeFeed ? 'on' : 'off'}) on ${queue}`,
    stop: async () => {
      await run?.catch(() => undefined);
    },
  };
}
