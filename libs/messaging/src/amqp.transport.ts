// A @nestjs/microservices transport over amqplib that speaks the proxies' own messages (no
// Nest envelope, manual acks). It owns the connection, topology, prefetch, batching, acks and
// reconnection; handlers (@MessagePattern(queue pattern)) receive InboundMessage[] batches.
import { CustomTransportStrategy, Server } from '@nestjs/microservices';
import * as amqp from 'amqplib';
import { isObservable, lastValueFrom } from 'rxjs';
import { declareExchange, declareQueue } from './amqp-topology';
import { BARRIER, BatchConsumer } from './batch-consumer';
import type { BatchContext, BatchVerdict, InboundMessage } from './inbound-message';
import type { ExchangeSpec, QueueSpec } from './topology';

export interface ConsumedQueue {
  /** The @MessagePattern that handles this queue's batches. */
  pattern: string;
  queue: QueueSpec;
  /** Run on each delivery as it arrives; handlers find the result in InboundMessage.decoded. */
  decode?: (content: Buffer) => unknown;
  /** With `lanes` > 1: a delivery's lane, or BARRIER (BatchConsumerOptions.laneOf). */
  laneOf?: (m: InboundMessage, lanes: number) => number | typeof BARRIER;
}

export interface AmqpTransportOptions {
  url: string;
  /** A URL safe to print (no password). */
  displayUrl: string;
  prefetch: number;
  /** Lanes per queue (default 1): see BatchConsumerOptions.lanes. */
  lanes?: number;
  batchSize: number;
  lingerMs: number;
  consumes: ConsumedQueue[];
  /** Further exchanges/queues to declare on every connection (dead letters, the change feed). */
  declare: { exchanges: ExchangeSpec[]; queues: QueueSpec[] };
  deadLetterExchange: string;
  metrics?: {
    onBatch?(queue: string, size: number, rejected: number): void;
    onDeadLetter?(queue: string, reason: string): void;
    onConnection?(up: boolean): void;
  };
}

export class AmqpTransport extends Server implements CustomTransportStrategy {
  private connection: amqp.ChannelModel | undefined;
  private consumers: BatchConsumer[] = [];
  private closing = false;
  private connected = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  /** One retry loop at a time: a failed set-up must not start another beside it. */
  private retrying = false;

  constructor(private readonly options: AmqpTransportOptions) {
    super();
  }

  get isConnected(): boolean {
    return this.connected;
  }

  listen(callback: (...optionalParams: unknown[]) => void): void {
    this.connectWithRetry().then(
      () => callback(),
      (e: unknown) => callback(e),
    );
  }

  async close(): Promise<void> {
    this.closing = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    await Promise.all(this.consumers.map((c) => c.stop()));
    await this.connection?.close().catch(() => undefined);
    this.connected = false;
  }

  on(): void {
    throw new Error('AmqpTransport does not emit events');
  }

  unwrap<T>(): T {
    return this.connection as T;
  }

  private async connectWithRetry(): Promise<void> {
    if (this.retrying) return;
    this.retrying = true;
    try {
      let delay = 500;
      while (!this.closing) {
        try {
          await this.connect();
          return;
        } catch (e) {
          this.logger.error(
            `RabbitMQ at ${this.options.displayUrl}: ${(e as Error).message}; retrying in ${delay / 1000}s. ` +
              `If it is not running, start it with \`docker compose up -d rabbitmq\` (or your system service), or set AMQP_URL.`,
          );
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 15_000);
        }
      }
    } finally {
      this.retrying = false;
    }
  }

  private async connect(): Promise<void> {
    const conn = await amqp.connect(this.options.url, {
      clientProperties: { connection_name: 'registrations-ingest' },
    });
    conn.on('error', (e: Error) => this.logger.warn(`RabbitMQ connection error: ${e.message}`));
    // A close during set-up fails the set-up (connectWithRetry retries; `closedEarly` catches one
    // that came with the last reply); only a connection that was consuming is "lost".
    let consuming = false;
    let closedEarly = false;
    const dropConnection = () => {
      if (consuming && !this.closing) void conn.close().catch(() => undefined);
      else closedEarly = true;
    };
    conn.on('close', () => {
      if (consuming) this.onConnectionLost();
      else closedEarly = true;
    });
    // A channel error (a 406, an ack the broker refuses) is logged, never left unhandled: an
    // unhandled 'error' would take the whole connection down.
    const watch = (ch: amqp.Channel, what: string) =>
      ch.on('error', (e: Error) =>
        this.logger.warn(`RabbitMQ channel (${what}) error: ${e.message}`),
      );
    try {
      const log = { warn: (m: string) => this.logger.warn(m) };
      const exchanges = [
        ...this.options.declare.exchanges,
        ...this.options.consumes.map((c) => c.queue.exchange),
      ];
      for (const ex of exchanges) await declareExchange(conn, ex, log);
      const setup = await conn.createChannel();
      watch(setup, 'set-up');
      let declaring = setup;
      for (const q of this.options.declare.queues)
        declaring = await declareQueue(conn, declaring, q, log);
      await declaring.close().catch(() => undefined);
      const confirm = await conn.createConfirmChannel();
      watch(confirm, 'dead letters');
      // Without it no message could be dead-lettered: start again on a new connection.
      confirm.on('close', dropConnection);
      const consumers: BatchConsumer[] = [];
      for (const c of this.options.consumes) {
        // One channel per queue: a multiple-ack covers only that queue's deliveries.
        let ch = await conn.createChannel();
        watch(ch, c.queue.name);
        ch = await declareQueue(conn, ch, c.queue, log);
        await ch.prefetch(this.options.prefetch);
        // A consuming channel the broker closed (not us: stop() sets closing first) would leave
        // the queue unconsumed: drop the connection, and the reconnection consumes again.
        ch.on('close', dropConnection);
        const handler = this.getHandlerByPattern(c.pattern);
        if (!handler)
          throw new Error(`no @MessagePattern('${c.pattern}') handler for queue ${c.queue.name}`);
        const consumer = new BatchConsumer(ch, confirm, {
          queue: c.queue.name,
          deadLetterExchange: this.options.deadLetterExchange,
          batchSize: this.options.batchSize,
          lingerMs: this.options.lingerMs,
          decode: c.decode,
          lanes: this.options.lanes ?? 1,
          laneOf: c.laneOf && ((m) => c.laneOf!(m, this.options.lanes ?? 1)),
          log: { warn: (m) => this.logger.warn(m), error: (m) => this.logger.error(m) },
          handler: async (batch: InboundMessage[], ctx: BatchContext) => {
            const out: unknown = await handler(batch, ctx);
            return (isObservable(out) ? await lastValueFrom(out) : out) as BatchVerdict;
          },
          onBatch: (size, rejected) =>
            this.options.metrics?.onBatch?.(c.queue.name, size, rejected),
          onDeadLetter: (reason) => this.options.metrics?.onDeadLetter?.(c.queue.name, reason),
        });
        consumers.push(consumer);
      }
      this.connection = conn;
      this.consumers = consumers;
      for (const consumer of consumers) await consumer.start();
      if (closedEarly) throw new Error('the connection or a channel closed while setting up');
      consuming = true;
      this.connected = true;
      this.options.metrics?.onConnection?.(true);
      this.logger.log(
        `consuming ${this.options.consumes.map((c) => c.queue.name).join(', ')} from ${this.options.displayUrl} ` +
          `(prefetch ${this.options.prefetch}, batches of ${this.options.batchSize}, ${this.options.lanes ?? 1} lanes)`,
      );
    } catch (e) {
      // Consumers already started must not go on committing batches they can no longer ack.
      for (const c of this.consumers) c.abandon();
      this.consumers = [];
      await conn.close().catch(() => undefined);
      throw e;
    }
  }

  private onConnectionLost(): void {
    this.connected = false;
    this.options.metrics?.onConnection?.(false);
    for (const c of this.consumers) c.abandon();
    this.consumers = [];
    if (this.closing) return;
    this.logger.warn(
      `lost the RabbitMQ connection to ${this.options.displayUrl}; unacked messages will be redelivered`,
    );
    this.reconnectTimer = setTimeout(() => void this.connectWithRetry(), 1000);
  }
}
