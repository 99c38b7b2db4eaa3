// Listens to the commands the API sends to the proxies: exclusive test queues bound to
// `registrar` (registration.flush.*), `TAP.Commands` (#) and `switch` (switch.notify.#).
// Bind before the request that publishes; the API answers only after the broker confirmed, so
// once the HTTP answer is in, every command it published is already in these queues.
import type * as amqp from 'amqplib';
import { connectTestBroker } from './amqp';

export interface TappedCommand {
  exchange: string;
  routingKey: string;
  contentType: string | undefined;
  text: string;
  /** The parsed body for JSON commands. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

type Source = 'registrar' | 'tapCommands' | 'switch';

export class CommandTap {
  private constructor(
    private readonly conn: amqp.ChannelModel,
    private readonly ch: amqp.Channel,
    private readonly queues: Record<Source, string>,
  ) {}

  static async open(): Promise<CommandTap> {
    const conn = await connectTestBroker('command tap connection');
    const ch = await conn.createChannel();
    await ch.assertExchange('registrar', 'topic', { durable: false });
    await ch.assertExchange('TAP.Commands', 'topic', { durable: true });
    await ch.assertExchange('switch', 'topic', { durable: false });
    const bind = async (exchange: string, key: string) => {
      const { queue } = await ch.assertQueue('', { exclusive: true, autoDelete: true });
      await ch.bindQueue(queue, exchange, key);
      return queue;
    };
    const queues = {
      registrar: await bind('registrar', 'registration.flush.*'),
      tapCommands: await bind('TAP.Commands', '#'),
      switch: await bind('switch', 'switch.notify.#'),
    };
    return new CommandTap(conn, ch, queues);
  }

  /** Takes every message currently in the queue of one source. */
  async take(source: Source): Promise<TappedCommand[]> {
    const out: TappedCommand[] = [];
    for (;;) {
      const m = await this.ch.get(this.queues[source], { noAck: true });
      if (!m) break;
      const text = m.content.toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      out.push({
        exchange: m.fields.exchange,
        routingKey: m.fields.routingKey,
        contentType: m.properties.contentType as string | undefined,
        text,
        json,
      });
    }
    return out;
  }

  /** Everything tapped so far, by source (emptying the queues). */
  async takeAll(): Promise<Record<Source, TappedCommand[]>> {
    return {
      registrar: await this.take('registrar'),
      tapCommands: await this.take('tapCommands'),
      switch: await this.take('switch'),
    };
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}
