// Publishing with publisher confirms: a publish resolves only once the broker has the message.
// Used for flush commands and the change feed. Reconnects lazily on the next publish.
import * as amqp from 'amqplib';
import { declareExchange } from './amqp-topology';
import type { ExchangeSpec } from './topology';

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
    const ch = await this.open();
    await new Promise<void>((resolve, reject) =>
      ch.publish(exchange, routingKey, body, options, (err) =>
        err ? reject(new Error(`broker refused the message: ${String(err)}`)) : resolve(),
      ),
    );
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
