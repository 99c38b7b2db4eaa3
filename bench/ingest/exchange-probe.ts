// The change feed as an AMQP subscriber sees it during a storm: a queue of our own bound to
// `registrations.changes` receives every change event the relay publishes (the product's relay,
// or the bare pipeline's, so that the broker routes and delivers the same events on both sides
// of the ratio), and each arrival is compared with its outbox row's `recorded_at` — the start
// of the statement that wrote it (Postgres has no commit time without track_commit_timestamp):
// an upper bound of commit → on the exchange, which includes the write statement itself.
//
// The wave's last changes are the most delayed ones, and they are published after the last
// commit: the pipeline must keep running (its relay publishing) until the probe has them all.
// So the caller runs `delivered()` after the wave's last commit and before it stops the
// pipeline; it waits, with a deadline, for every change recorded since the probe started, and
// fails the bench if any is missing.
import type { ChannelModel } from 'amqplib';
import type { Pool } from 'pg';
import { TOPOLOGY } from './bench-env';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

export interface ExchangeProbe {
  /**
   * Waits (up to timeoutMs) until every change recorded since the probe started was received
   * from the exchange, then returns the figure; throws if some never arrived.
   */
  delivered(timeoutMs: number): Promise<string>;
  /** Closes the probe's channel; safe to call more than once, and on failure. */
  close(): Promise<void>;
}

export async function startExchangeProbe(conn: ChannelModel, pool: Pool): Promise<ExchangeProbe> {
  // The changes of this wave: those after the outbox's end when the probe starts.
  const { rows: start } = await pool.query<{ seq: string }>(
    `SELECT coalesce(max(seq), 0)::text AS seq FROM registration_changes`,
  );
  const from = start[0].seq;
  const ch = await conn.createChannel();
  const exchange = TOPOLOGY.changes;
  await ch.assertExchange(exchange.name, exchange.type, { durable: exchange.durable });
  const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
  await ch.bindQueue(queue, exchange.name, '#');
  const arrivals = new Map<string, number>();
  await ch.consume(
    queue,
    (m) => {
      // The first delivery counts (a relay restarted mid-batch may publish a change again).
      const id = m?.properties.messageId as string | undefined;
      if (id && !arrivals.has(id)) arrivals.set(id, Date.now());
    },
    { noAck: true },
  );
  let closed: Promise<void> | undefined;
  const close = () => (closed ??= ch.close().catch(() => undefined));

  return {
    close,
    async delivered(timeoutMs: number) {
      const recorded = async () =>
        (
          await pool.query<{ seq: string; at: number }>(
            `SELECT seq::text AS seq, extract(epoch from recorded_at) * 1000 AS at
               FROM registration_changes WHERE seq > $1`,
            [from],
          )
        ).rows;
      // Called after the wave's last commit: these are all the changes there will be.
      const rows = await recorded();
      const until = Date.now() + timeoutMs;
      while (rows.some((r) => !arrivals.has(r.seq)) && Date.now() < until) await sleep(100);
      await close();
      const lags = rows
        .filter((r) => arrivals.has(r.seq))
        .map((r) => arrivals.get(r.seq)! - Number(r.at))
        .sort((a, b) => a - b);
      const head = `change feed: ${fmt(lags.length)} of ${fmt(rows.length)} changes received from registrations.changes`;
      if (lags.length < rows.length)
        throw new Error(
          `${head} within ${timeoutMs / 1000} s of the last commit: the relay lost or never published ${fmt(rows.length - lags.length)}`,
        );
      if (lags.length === 0) return `${head}; no changes recorded`;
      const q = (x: number) =>
        Math.round(lags[Math.min(lags.length - 1, Math.floor(x * lags.length))]);
      return `${head}; recorded_at → delivered p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms`;
    },
  };
}
