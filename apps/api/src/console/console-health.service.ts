// The console's ingest health panel: the database (from here), the ingest app (its /readyz and
// /metrics: events consumed, dead-lettered, broker connection) and the broker's queues (messages
// waiting in the ingest queues and the dead-letter queue, read with a passive check). Events
// per second are the change of the ingest's counter since this API's previous reading.
import { Inject, Injectable } from '@nestjs/common';
import * as amqp from 'amqplib';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { topology } from '@app/messaging';

const TIMEOUT_MS = 2_000;

export interface IngestHealth {
  database: string;
  ingest: { status: string; database?: string; broker?: string; url: string };
  events_total: number | null;
  events_per_second: number | null;
  dead_lettered_total: number | null;
  queues: { name: string; messages: number | null; consumers: number | null }[];
  broker: string;
}

/** The sum of every sample of a Prometheus metric in text format, or null when absent. */
export function metricSum(text: string, name: string): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const v = Number(line.trim().split(/\s+/).pop());
    if (Number.isFinite(v)) sum = (sum ?? 0) + v;
  }
  return sum;
}

@Injectable()
export class ConsoleHealthService {
  private last?: { at: number; events: number; rate: number | null };

  constructor(
    private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async read(): Promise<IngestHealth> {
    const ingestUrl = this.config.INGEST_URL || `http://127.0.0.1:${this.config.INGEST_PORT}`;
    const [database, ready, metrics, broker] = await Promise.all([
      this.ds.query('SELECT 1').then(
        () => 'ok',
        (e: Error) => e.message,
      ),
      this.fetchJson(`${ingestUrl}/readyz`),
      this.fetchText(`${ingestUrl}/metrics`),
      this.queues(),
    ]);
    const events = metrics === undefined ? null : metricSum(metrics, 'registrations_events_total');
    return {
      database,
      ingest: { ...ready, url: ingestUrl },
      events_total: events,
      events_per_second: events === null ? null : this.rate(events),
      dead_lettered_total:
        metrics === undefined
          ? null
          : (metricSum(metrics, 'registrations_dead_lettered_total') ?? 0),
      queues: broker.queues,
      broker: broker.status,
    };
  }

  private rate(events: number): number | null {
    const now = Date.now();
    const prev = this.last;
    if (prev && now - prev.at < 1_000) return prev.rate;
    const rate =
      prev && events >= prev.events ? ((events - prev.events) * 1000) / (now - prev.at) : null;
    this.last = { at: now, events, rate };
    return rate === null ? null : Math.round(rate * 10) / 10;
  }

  private async fetchJson(
    url: string,
  ): Promise<{ status: string; database?: string; broker?: string }> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      const body = (await res.json()) as { status?: string; database?: string; broker?: string };
      return {
        status: body.status ?? `HTTP ${res.status}`,
        database: body.database,
        broker: body.broker,
      };
    } catch (e) {
      return { status: `unreachable: ${(e as Error).message}` };
    }
  }

  private async fetchText(url: string): Promise<string | undefined> {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      return res.ok ? await res.text() : undefined;
    } catch {
      return undefined;
    }
  }

  private async queues(): Promise<{ status: string; queues: IngestHealth['queues'] }> {
    const t = topology({
      kazooExchangeDurable: this.config.KAZOO_EXCHANGE_DURABLE,
      queuePrefix: this.config.QUEUE_PREFIX,
    });
    const names = [t.kazooQueue.name, t.freeswitchQueue.name, t.deadLetterQueue.name];
    let conn: amqp.ChannelModel | undefined;
    try {
      conn = await amqp.connect(this.config.AMQP_URL, { timeout: TIMEOUT_MS });
      conn.on('error', () => undefined);
      const queues: IngestHealth['queues'] = [];
      for (const name of names) {
        // A passive check that fails closes its channel: one channel per queue.
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        try {
          const q = await ch.checkQueue(name);
          queues.push({ name, messages: q.messageCount, consumers: q.consumerCount });
          await ch.close();
        } catch {
          queues.push({ name, messages: null, consumers: null });
        }
      }
      return { status: 'ok', queues };
    } catch (e) {
      return {
        status: `unreachable: ${(e as Error).message}`,
        queues: names.map((name) => ({ name, messages: null, consumers: null })),
      };
    } finally {
      await conn?.close().catch(() => undefined);
    }
  }
}
