// Publishing with publisher confirms: a publish resolves only once the broker has the message.
// Used for flush commands and the change feed. Reconnects lazily on the next publish.
import * as amqp from 'amqplib';
import { declareExchange } from './amqp-topology';
import type { ExchangeSpec } from './topology';

const refused = (err: unknown) => new Error(`broker refused the message: ${String(err)}`);

/** Resolves when the broker confirmed the message; rejects if refused or the channel closed. */
function confirmed(
  ch: amqp.ConfirmChannel,
  exchange: string,
  routingKey: string,
  body: Buffer,
  options: amqp.Options.Publish,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    try {
      ch.publish(exchange, routingKey, body, options, (err) =>
        err ? reject(refused(err)) : resolve(),
      );
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e))); // the channel closed: amqplib throws on send
    }
  });
}

/**
 * Messages published on one channel, their confirms tracked together: for a sequence whose order
 * matters (the change relay's pass). Once that channel closes, `publish` throws and `confirmed`
 * rejects instead of opening another channel: none of the sequence can overtake, on a new
 * channel, messages lost with the old one. One callback counts the confirms of all of them
 * rather than a Promise each: the relay publishes thousands per pass.
 */
export class ConfirmBatch {
  private unconfirmed = 0;
  private failure: Error | undefined;
  private waiter: { resolve(): void; reject(e: Error): void } | undefined;

  constructor(private readonly ch: amqp.ConfirmChannel) {}

  /** Throws if the channel closed or the broker refused one of the batch already. */
  publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: amqp.Options.Publish = {},
  ): void {
    if (this.failure) throw this.failure;
    try {
      this.ch.publish(exchange, routingKey, body, options, this.onConfirm);
    } catch (e) {
      // The channel closed: amqplib throws on send.
      this.failure ??= e instanceof Error ? e : new Error(String(e));
      throw this.failure;
    }
    this.unconfirmed++;
  }

  /** Resolves once the broker confirmed every message published so far; rejects if it refused
   * any of them or the channel closed first. */
  confirmed(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.unconfirmed === 0) return Promise.resolve();
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private readonly onConfirm = (err: unknown): void => {
    this.unconfirmed--;
    if (err) this.failure ??= refused(err);
    if (!this.waiter || (!this.failure && this.unconfirmed > 0)) return;
    const w = this.waiter;
    this.waiter = undefined;
    if (this.failure) w.reject(this.failure);
    else w.resolve();
  };
}

export class ConfirmPublisher {
  private conn: amqp.ChannelModel | undefined;
  private channel: amqp.ConfirmChannel | undefined;
  private opening: Promise<amqp.ConfirmChannel> | undefined;

  constructor(
    private readonly url: string,
    private readonly exchanges: ExchangeSpec[],
    private readonly log: { warn(m: string): void },
    private readonly connectionName = 'registrations-publisher',
  ) {}

  async publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: amqp.Options.Publish = {},
  ): Promise<void> {
    await confirmed(await this.open(), exchange, routingKey, body, options);
  }

  /** A batch on the channel open now (see ConfirmBatch). */
  async onOneChannel(): Promise<ConfirmBatch> {
    return new ConfirmBatch(await this.open());
  }

  async close(): Promise<void> {
    await this.conn?.close().catch(() => undefined);
    this.conn = undefined;
    this.channel = undefined;
  }

  private open(): Promise<amqp.ConfirmChannel> {
    if (this.channel) return Promise.resolve(this.channel);
    this.opening ??= (async () => {
      const conn = await amqp.connect(this.url, {
        clientProperties: { connection_name: this.connectionName },
      });
      const forget = () => {
        this.conn = undefined;
        this.channel = undefined;
      };
      conn.on('error', (e: Error) => this.log.warn(`publisher connection error: ${e.message}`));
      conn.on('close', forget);
      for (const ex of this.exchanges) await declareExchange(conn, ex, this.log);
      const ch = await conn.createConfirmChannel();
      ch.on('close', forget);
      this.conn = conn;
      this.channel = ch;
      return ch;
    })().finally(() => (this.opening = undefined));
    return this.opening;
  }
}
