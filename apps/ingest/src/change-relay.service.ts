// The outbox relay: publishes committed changes (registration_changes) to exchange
// registrations.changes in sequence order, persistent, with publisher confirms, then moves its
// position (registration_changes_relay) past them in the same transaction. A crash after
// publishing and before the commit republishes them after restart (at least once; consumers
// dedupe by seq). Only one instance relays at a time (advisory lock), which also keeps the order.
//
// A pass reads the outbox in chunks and publishes each chunk as soon as it is read, while the
// broker confirms the previous ones: the confirms' round trip and the position's commit are paid
// once per pass, not once per chunk. Under a storm the relay is always behind (every chunk comes
// back full), so that wait bounded the change feed's throughput, hence its latency
// (docs/benchmarks.md, "Change feed latency"). The position still moves only past changes the
// broker confirmed, all of them, in the transaction that holds the lock.
//
// Per change, the relay's work is on the ingest's event loop, which a storm keeps busy: Postgres
// prints the event's body (EVENT_BODY, libs/persistence/src/change-outbox.ts), node only encodes
// the routing key and hands the bytes to amqplib, and one counter tracks the pass's confirms
// (ConfirmBatch).
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnModuleDestroy,
  Optional,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ConfirmBatch, ConfirmPublisher, keys, topology } from '@app/messaging';
import { RegistrationStore, RELAY_READ_SQL, RelayedChange } from '@app/persistence';
import { PeriodicTask } from './periodic-task';

const RELAY_LOCK = 7_406_314;
/** Rows per read. */
export const RELAY_CHUNK = 500;
/**
 * Rows per pass at most (one transaction, one wait for confirms): bounds how long the pass's
 * transaction stays open and how many unconfirmed messages it holds in memory.
 */
export const RELAY_PASS_MAX = 5_000;

@Injectable()
export class ChangeRelayService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(ChangeRelayService.name);
  private readonly publisher: ConfirmPublisher;
  private readonly exchange: string;
  private readonly notificationsExchange: string;
  private readonly task: PeriodicTask;

  constructor(
    private readonly ds: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Optional() store?: RegistrationStore,
  ) {
    const t = topology({
      kazooExchangeDurable: config.KAZOO_EXCHANGE_DURABLE,
      queuePrefix: config.QUEUE_PREFIX,
    });
    this.exchange = t.changes.name;
    this.notificationsExchange = t.notifications.name;
    const exchanges = config.KAZOO_NOTIFICATIONS ? [t.changes, t.notifications] : [t.changes];
    this.publisher = new ConfirmPublisher(
      config.AMQP_URL,
      exchanges,
      { warn: (m) => this.logger.warn(m) },
      'registrations-relay',
    );
    // A pass that stopped at RELAY_PASS_MAX means more are waiting: go again at once. Otherwise the
    // next pass is when a lane of this app commits changes (the store tells), or in 100 ms for
    // those written by other processes (the API's flushes) or before a failure.
    this.task = new PeriodicTask(
      'change relay',
      async () => ((await this.relayOnce()) >= RELAY_PASS_MAX ? 0 : 100),
      (m) => this.logger.warn(m),
      { initialBackoffMs: 100, maxBackoffMs: 10_000 },
    );
    if (store) store.onChangesCommitted = () => this.task.wake();
  }

  onApplicationBootstrap(): void {
    if (this.config.CHANGE_FEED_ENABLED && this.config.CHANGE_RELAY_ENABLED) this.task.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.task.stop();
    await this.publisher.close();
  }

  /** One pass: publishes up to RELAY_PASS_MAX changes; returns how many. */
  async relayOnce(): Promise<number> {
    const q = this.ds.createQueryRunner();
    await q.connect();
    try {
      await q.startTransaction();
      const [{ locked }] = await q.query(`SELECT pg_try_advisory_xact_lock($1) AS locked`, [
        RELAY_LOCK,
      ]);
      if (!locked) {
        await q.rollbackTransaction();
        return 0;
      }
      const [{ through }] = await q.query(
        `SELECT published_through AS through FROM registration_changes_relay WHERE id = 1`,
      );
      // Each chunk is published as soon as it is read, on one channel for the whole pass (in
      // seq order: if it closes, the rest of the pass fails rather than overtake what was lost
      // with it); the confirms are awaited together at the end of the pass.
      let batch: ConfirmBatch | undefined;
      let last: string = through;
      let published = 0;
      while (published < RELAY_PASS_MAX) {
        const rows: RelayedChange[] = await q.query(RELAY_READ_SQL, [
          last,
          Math.min(RELAY_CHUNK, RELAY_PASS_MAX - published),
        ]);
        if (rows.length > 0) batch ??= await this.publisher.onOneChannel();
        for (const r of rows) this.publish(batch!, r);
        published += rows.length;
        if (rows.length > 0) last = rows[rows.length - 1].seq;
        if (rows.length < RELAY_CHUNK) break; // caught up
      }
      // Rejects if the broker refused any of them: the position stays, all are published again.
      await batch?.confirmed();
      if (published > 0)
        await q.query(`UPDATE registration_changes_relay SET published_through = $1 WHERE id = 1`, [
          last,
        ]);
      await q.commitTransaction();
      return published;
    } catch (e) {
      if (q.isTransactionActive) await q.rollbackTransaction().catch(() => undefined);
      throw e;
    } finally {
      await q.release();
    }
  }

  private publish(batch: ConfirmBatch, r: RelayedChange): void {
    batch.publish(
      this.exchange,
      keys.change(r.change, r.account_id, r.realm, r.username),
      Buffer.from(r.body),
      { persistent: true, contentType: 'application/json', messageId: r.seq, type: r.change },
    );
    const notification = this.config.KAZOO_NOTIFICATIONS ? kazooNotification(r) : undefined;
    if (notification)
      batch.publish(
        this.notificationsExchange,
        notification.key,
        Buffer.from(JSON.stringify(notification.body)),
        { contentType: 'application/json' },
      );
  }
}

/** Kazoo's notification/register and notification/deregister, for existing Kazoo consumers. */
function kazooNotification(
  r: RelayedChange,
): { key: string; body: Record<string, unknown> } | undefined {
  const name =
    r.change === 'registered'
      ? 'register'
      : ['unregistered', 'expired', 'flushed', 'reconciled'].includes(r.change)
        ? 'deregister'
        : undefined;
  if (!name) return undefined;
  // Off by default: parsing the event back is cheaper to read than a second set of columns.
  const event = JSON.parse(r.body) as {
    occurred_at: string;
    registration: Record<string, unknown>;
  };
  const reg = event.registration;
  return {
    key: `notifications.sip.${name}`,
    body: {
      'Event-Category': 'notification',
      'Event-Name': name,
      'App-Name': 'registrations-service',
      'App-Version': '0.1.0',
      'Msg-ID': randomUUID(),
      'Account-ID': r.account_id,
      Username: r.username,
      Realm: r.realm,
      'Call-ID': reg.call_id,
      Contact: reg.contact,
      'User-Agent': reg.user_agent,
      Expires: reg.expires,
      'Event-Timestamp': Math.floor(Date.parse(event.occurred_at) / 1000),
    },
  };
}
