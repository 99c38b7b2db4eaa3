// Consumes one queue in batches: many messages in flight (prefetch), one handler call per
// batch, one multiple-ack after the handler (the database) committed. Dead letters carry their
// reason in a header. A transient failure retries the same batch with backoff and acks nothing;
// any other failure is narrowed down to the single messages that cause it.
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { RetryableError } from './errors';
import { BatchContext } from './inbound-message';
import type { BatchHandler, BatchVerdict, InboundMessage } from './inbound-message';
import { REJECT_REASON_HEADER } from './topology';

export interface BatchConsumerOptions {
  queue: string;
  deadLetterExchange: string;
  batchSize: number;
  lingerMs: number;
  /** Run on each delivery as it arrives (InboundMessage.decoded); must not throw. */
  decode?: (content: Buffer) => unknown;
  handler: BatchHandler;
  log: { warn(m: string): void; error(m: string): void; debug?(m: string): void };
  onBatch?: (size: number, rejected: number) => void;
  onDeadLetter?: (reason: string) => void;
}

export class BatchConsumer {
  /** Deliveries not yet handed to the handler, each with its InboundMessage (decoded on arrival). */
  private buffer: { message: ConsumeMessage; inbound: InboundMessage }[] = [];
  private draining: Promise<void> | undefined;
  private lingerTimer: NodeJS.Timeout | undefined;
  private consumerTag: string | undefined;
  private abandoned = false;
  private backoffMs = 250;

  constructor(
    private readonly channel: Channel,
    private readonly confirm: ConfirmChannel,
    private readonly opts: BatchConsumerOptions,
  ) {}

  async start(): Promise<void> {
    const { consumerTag } = await this.channel.consume(
      this.opts.queue,
      (m) => m && this.receive(m),
      { noAck: false },
    );
    this.consumerTag = consumerTag;
  }

  /**
   * Stops taking messages and waits for what was received to be committed and acked. If that
   * cannot happen within `timeoutMs` (database down), gives up: unacked messages go back to
   * the queue when the channel closes.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.consumerTag) await this.channel.cancel(this.consumerTag).catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    this.schedule();
    while (this.draining && Date.now() < deadline) {
      await Promise.race([
        this.draining,
        new Promise((r) => setTimeout(r, Math.max(1, deadline - Date.now()))),
      ]);
    }
    if (this.draining)
      this.opts.log.warn(
        `stopping ${this.opts.queue} with a batch uncommitted: it returns to the queue`,
      );
    this.abandon();
    // Closing this channel (not just the connection) makes the broker process our last acks
    // first: frames of one channel are handled in order, across channels they are not.
    await this.channel.close().catch(() => undefined);
  }

  /** After a broker connection loss: the delivery tags are void; the broker redelivers. */
  abandon(): void {
    this.abandoned = true;
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.buffer = [];
  }

  private receive(m: ConsumeMessage): void {
    if (this.abandoned) return;
    this.buffer.push({ message: m, inbound: toInbound(m, this.opts.decode) });
    if (this.buffer.length >= this.opts.batchSize) this.schedule();
    else if (!this.lingerTimer && !this.draining) {
      this.lingerTimer = setTimeout(() => this.schedule(), this.opts.lingerMs);
    }
  }

  private schedule(): void {
    if (this.lingerTimer) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    if (this.draining || this.buffer.length === 0) return;
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      // Messages that arrived meanwhile form the next batch at once (no linger when busy).
      if (this.buffer.length > 0) this.schedule();
    });
  }

  private async drain(): Promise<void> {
    const taken = this.buffer.splice(0, this.opts.batchSize);
    const batch = taken.map((t) => t.message);
    const inbound = taken.map((t) => t.inbound);
    for (;;) {
      try {
        const rejected = await this.process(batch, inbound);
        this.opts.onBatch?.(batch.length, rejected);
        if (this.abandoned) return; // the channel is gone; the broker redelivers (harmless: idempotent)
        this.channel.ack(batch[batch.length - 1], true);
        this.backoffMs = 250;
        return;
      } catch (e) {
        if (this.abandoned) return;
        this.opts.log.warn(
          `batch of ${batch.length} from ${this.opts.queue} not committed (${(e as Error).message}); ` +
            `nothing acked, retrying in ${this.backoffMs} ms`,
        );
        await new Promise((r) => setTimeout(r, this.backoffMs));
        this.backoffMs = Math.min(this.backoffMs * 2, 10_000);
        if (this.abandoned) return; // connection lost or stopped: the broker redelivers what is unacked
      }
    }
  }

  /** Runs the handler; a batch that failed for its content is narrowed down to single messages. */
  private async process(
    batch: ConsumeMessage[],
    inbound: InboundMessage[],
    alone = false,
  ): Promise<number> {
    let verdict: BatchVerdict;
    // A message retried alone is followed by the rest of its batch, not by the buffer.
    const following = alone
      ? () => []
      : () => this.buffer.slice(0, this.opts.batchSize).map((t) => t.inbound);
    try {
      verdict = await this.opts.handler(inbound, new BatchContext([this.opts.queue, following]));
    } catch (e) {
      verdict = {
        outcome: 'failed',
        reason: `processing_failed: ${(e as Error)?.message ?? String(e)}`,
      };
    }
    if (verdict.outcome === 'retry') throw new RetryableError(verdict.reason);
    if (verdict.outcome === 'failed') {
      if (batch.length === 1) {
        await this.deadLetter(batch[0], verdict.reason);
        return 1;
      }
      this.opts.log.warn(
        `batch of ${batch.length} from ${this.opts.queue} failed (${verdict.reason}); retrying one by one`,
      );
      let rejected = 0;
      for (let i = 0; i < batch.length; i++)
        rejected += await this.process([batch[i]], [inbound[i]], true);
      return rejected;
    }
    for (const r of verdict.rejected) await this.deadLetter(batch[r.index], r.reason);
    return verdict.rejected.length;
  }

  private async deadLetter(m: ConsumeMessage, reason: string): Promise<void> {
    this.opts.onDeadLetter?.(reason.split(':')[0]);
    this.opts.log.warn(
      `dead-lettering a message from ${m.fields.exchange}/${m.fields.routingKey}: ${reason}`,
    );
    await new Promise<void>((resolve, reject) =>
      this.confirm.publish(
        this.opts.deadLetterExchange,
        m.fields.routingKey,
        m.content,
        {
          ...m.properties,
          persistent: true,
          headers: {
            ...m.properties.headers,
            [REJECT_REASON_HEADER]: reason.slice(0, 1000),
            'x-original-exchange': m.fields.exchange,
            'x-original-routing-key': m.fields.routingKey,
            'x-original-queue': this.opts.queue,
            'x-rejected-at': new Date().toISOString(),
          },
        },
        (err) =>
          err
            ? reject(new RetryableError(`dead-letter publish failed: ${String(err)}`))
            : resolve(),
      ),
    );
  }
}

function toInbound(m: ConsumeMessage, decode?: (content: Buffer) => unknown): InboundMessage {
  let decoded: unknown;
  try {
    decoded = decode?.(m.content);
  } catch {
    decoded = undefined; // the handler decodes again and deals with it
  }
  return {
    decoded,
    content: m.content,
    exchange: m.fields.exchange,
    routingKey: m.fields.routingKey,
    headers: m.properties.headers ?? {},
    redelivered: m.fields.redelivered,
    timestamp: typeof m.properties.timestamp === 'number' ? m.properties.timestamp : undefined,
  };
}
