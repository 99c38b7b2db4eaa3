// Publishing proxy messages and inspecting queues in the test vhost.
import * as amqp from 'amqplib';
import { topology } from '@app/messaging';
import { closeAtEnd } from './cleanup';
import { TEST_AMQP_URL, TEST_QUEUE_PREFIX } from './test-env';

export const T = topology({ kazooExchangeDurable: false, queuePrefix: TEST_QUEUE_PREFIX });

export interface Outgoing {
  exchange: string;
  routingKey: string;
  body: Buffer | string | object;
}

export class TestBroker {
  private constructor(
    readonly conn: amqp.ChannelModel,
    readonly ch: amqp.ConfirmChannel,
  ) {}

  static async open(): Promise<TestBroker> {
    const conn = await connectTestBroker('test broker connection');
    const ch = await conn.createConfirmChannel();
    await ch.assertExchange(T.registrar.name, 'topic', { durable: false });
    await ch.assertExchange(T.tapEvents.name, 'topic', { durable: true });
    await ch.assertExchange(T.tapCommands.name, 'topic', { durable: true });
    return new TestBroker(conn, ch);
  }

  async publish(messages: Outgoing[]): Promise<void> {
    for (const m of messages) {
      const body = Buffer.isBuffer(m.body)
        ? m.body
        : Buffer.from(typeof m.body === 'string' ? m.body : JSON.stringify(m.body));
      this.ch.publish(m.exchange, m.routingKey, body, {
        persistent: true,
        contentType: 'application/json',
      });
    }
    await this.ch.waitForConfirms();
  }

  /** Empties our queues (they exist once the ingest app has declared them). */
  async purge(): Promise<void> {
    for (const q of [T.kazooQueue.name, T.freeswitchQueue.name, T.deadLetterQueue.name]) {
      const ch = await this.conn.createChannel();
      ch.on('error', () => undefined);
      await ch.purgeQueue(q).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  }

  async queueDepth(queue: string): Promise<number> {
    const ch = await this.conn.createChannel();
    try {
      return (await ch.checkQueue(queue)).messageCount;
    } finally {
      await ch.close();
    }
  }

  /** Takes every message currently in a queue (acking them). */
  async drain(queue: string): Promise<amqp.GetMessage[]> {
    const ch = await this.conn.createChannel();
    const out: amqp.GetMessage[] = [];
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (!m) break;
      out.push(m);
    }
    await ch.close();
    return out;
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}

/** A connection to the test vhost, closed when the file ends if the file does not close it. */
export async function connectTestBroker(label = 'amqp connection'): Promise<amqp.ChannelModel> {
  return closeAtEnd(label, await amqp.connect(TEST_AMQP_URL), 'close');
}
