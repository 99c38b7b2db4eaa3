// Publishing with publisher confirms: a publish resolves only once the broker has the message.
// Used for flush commands and the change feed. Reconnects lazily on the next publish.
import * as amqp from 'amqplib';
import { declareExchange } from './amqp-topology';
import type { ExchangeSpec } from './topology';

export type PublishFn = (
  exchange: string,
  routingKey: string,
  body: Buffer,
  options?: amqp.Options.Publish,
) => Promise<void>;

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
        err ? reject(new Error(`broker refused the message: ${String(err)}`)) : resolve(),
      );
    } catch (e) {
      reject(e instanceof Error ? e : new Error(String(e))); // the channel closed: amqplib throws on send
    }
  });
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

  /**
   * A publish function bound to the channel open now: once that channel closes, it rejects
   * instead of opening another. For a sequence whose order matters (the change relay's pass):
   * none of it can overtake, on a new channel, messages lost with the old one.
   */
  async onOneChannel(): Promise<PublishFn> {
    const ch = await this.open();
    return (exchange, routingKey, body, options = {}) =>
      confirmed(ch, exchange, routingKey, body, options);
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
