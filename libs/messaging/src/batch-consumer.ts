// Consumes one queue in batches: many messages in flight (prefetch), one handler call per
// batch, acked after the handler (the database) committed, by a watermark: one multiple-ack up
// to just below the first delivery not settled yet in any lane (one per batch with one lane;
// see BatchConsumerOptions.lanes and docs/design.md). Dead letters carry their reason in a
// header. A transient failure retries the same batch with backoff and acks nothing;
// any other failure is narrowed down to the single messages that cause it.
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { AckSlot, AckWatermark } from './ack-watermark';
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
  /**
   * Lanes (default 1): the queue's deliveries are dealt to `lanes` lanes by `laneOf`, each
   * with its own batches, all in flight at once. Acks wait for the slowest lane: a batch's
   * commit acks (one multiple-ack) only up to just below the first delivery of the queue that
   * is not committed or dead-lettered yet, whichever lane or barrier holds it.
   */
  lanes?: number;
  /**
   * A delivery's lane (0 ≤ lane < lanes), or BARRIER: every lane commits what came before it,
   * it is applied alone, then the lanes go on. Called only with more than one lane.
   */
  laneOf?: (m: InboundMessage) => number | typeof BARRIER;
  handler: BatchHandler;
  log: { warn(m: string): void; error(m: string): void; debug?(m: string): void };
  onBatch?: (size: number, rejected: number) => void;
  onDeadLetter?: (reason: string) => void;
}

/** A delivery applied between the lanes: after all before it, before all after it. */
export const BARRIER = 'barrier' as const;

/** Position of each delivery in arrival (queue) order, over the process's lifetime. */
let nextPosition = 0;

interface Delivery {
  message: ConsumeMessage;
  inbound: InboundMessage;
  /** Its place among the deliveries not acked yet. */
  ack: AckSlot<ConsumeMessage>;
}

class Lane {
  /** Deliveries not yet handed to the handler, each with its InboundMessage (decoded on arrival). */
  buffer: Delivery[] = [];
  draining: Promise<void> | undefined;
  lingerTimer: NodeJS.Timeout | undefined;
  backoffMs = 250;
  constructor(readonly index: number | typeof BARRIER) {}
}

export class BatchConsumer {
  private readonly lanes: Lane[];
  /** A barrier waiting for the lanes (or being applied), and what arrived after it. */
  private barrier: Lane | undefined;
  private held: Delivery[] = [];
  /** Every delivery until acked, in tag order: what one multiple-ack may cover. */
  private readonly acks = new AckWatermark<ConsumeMessage>();
  private consumerTag: string | undefined;
  private abandoned = false;

  constructor(
    private readonly channel: Channel,
    private readonly confirm: ConfirmChannel,
    private readonly opts: BatchConsumerOptions,
  ) {
    const n = Math.max(1, opts.lanes ?? 1);
    this.lanes = Array.from({ length: n }, (_, i) => new Lane(i));
  }

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
    for (const lane of this.lanes) this.schedule(lane);
    const busy = () => this.busy();
    while (busy() && Date.now() < deadline) {
      await Promise.race([
        ...[...this.lanes, ...(this.barrier ? [this.barrier] : [])]
          .map((l) => l.draining)
          .filter((d) => d !== undefined),
        new Promise((r) => setTimeout(r, Math.min(50, Math.max(1, deadline - Date.now())))),
      ]);
    }
    if (busy())
      this.opts.log.warn(
        `stopping ${this.opts.queue} with a batch uncommitted: it returns to the queue`,
      );
    this.abandon();
    // Closing this channel (not just the connection) makes the broker process our last acks
    // first: frames of one channel are handled in order, across channels they are not.
    await this.channel.close().catch(() => undefined);
  }

  /** Something received is not committed yet. */
  private busy(): boolean {
    return (
      this.barrier !== undefined ||
      this.held.length > 0 ||
      this.lanes.some((l) => l.draining !== undefined || l.buffer.length > 0)
    );
  }

  /** After a broker connection loss: the delivery tags are void; the broker redelivers. */
  abandon(): void {
    this.abandoned = true;
    for (const lane of this.lanes) {
      if (lane.lingerTimer) clearTimeout(lane.lingerTimer);
      lane.buffer = [];
    }
    this.held = [];
    this.acks.clear();
  }

  private receive(m: ConsumeMessage): void {
    if (this.abandoned) return;
    const inbound = toInbound(m, this.opts.decode);
    inbound.position = nextPosition++;
    this.route({ message: m, inbound, ack: this.acks.track(m) });
  }

  private route(d: Delivery): void {
    if (this.barrier) {
      this.held.push(d);
      return;
    }
    const to = this.lanes.length > 1 && this.opts.laneOf ? this.opts.laneOf(d.inbound) : 0;
    if (to === BARRIER) {
      this.barrier = new Lane(BARRIER);
      this.barrier.buffer.push(d);
      // No lingering: the lanes commit what they hold now, then the barrier goes.
      for (const lane of this.lanes) this.schedule(lane);
      this.startBarrier();
      return;
    }
    const lane = this.lanes[to];
    lane.buffer.push(d);
    if (lane.buffer.length >= this.opts.batchSize) this.schedule(lane);
    else if (!lane.lingerTimer && !lane.draining) {
      lane.lingerTimer = setTimeout(() => this.schedule(lane), this.opts.lingerMs);
    }
  }

  private schedule(lane: Lane): void {
    if (lane.lingerTimer) {
      clearTimeout(lane.lingerTimer);
      lane.lingerTimer = undefined;
    }
    if (lane.draining || lane.buffer.length === 0) {
      this.startBarrier();
      return;
    }
    lane.draining = this.drain(lane).finally(() => {
      lane.draining = undefined;
      // Messages that arrived meanwhile form the next batch at once (no linger when busy).
      this.schedule(lane);
    });
  }

  /** Applies the waiting barrier once every lane committed what came before it. */
  private startBarrier(): void {
    const b = this.barrier;
    if (!b || b.draining || this.abandoned) return;
    if (this.lanes.some((l) => l.draining !== undefined || l.buffer.length > 0)) return;
    b.draining = this.drain(b).finally(() => {
      b.draining = undefined;
      if (this.barrier !== b) return;
      this.barrier = undefined;
      const held = this.held;
      this.held = [];
      if (this.abandoned) return;
      for (const d of held) this.route(d);
      for (const lane of this.lanes) if (!lane.lingerTimer) this.schedule(lane);
    });
  }

  private async drain(lane: Lane): Promise<void> {
    const taken = lane.buffer.splice(0, this.opts.batchSize);
    const batch = taken.map((t) => t.message);
    const inbound = taken.map((t) => t.inbound);
    for (;;) {
      try {
        const rejected = await this.process(lane, batch, inbound);
        this.opts.onBatch?.(batch.length, rejected);
        lane.backoffMs = 250;
        if (this.abandoned) return; // the channel is gone; the broker redelivers (harmless: idempotent)
        // Committed, and its dead letters confirmed: all of it settled.
        this.ackUpTo(this.acks.settle(taken.map((t) => t.ack)));
        return;
      } catch (e) {
        if (this.abandoned) return;
        this.opts.log.warn(
          `batch of ${batch.length} from ${this.opts.queue} not committed (${(e as Error).message}); ` +
            `nothing acked, retrying in ${lane.backoffMs} ms`,
        );
        await new Promise((r) => setTimeout(r, lane.backoffMs));
        lane.backoffMs = Math.min(lane.backoffMs * 2, 10_000);
        if (this.abandoned) return; // connection lost or stopped: the broker redelivers what is unacked
      }
    }
  }

  /**
   * One multiple-ack up to `m`, if the settled run at the front grew. With one lane that is
   * always the batch's last delivery; with several, other lanes' earlier deliveries may not be
   * committed yet, and then nothing is acked until the commit that completes the run.
   */
  private ackUpTo(m: ConsumeMessage | undefined): void {
    if (!m) return;
    try {
      this.channel.ack(m, true);
    } catch (e) {
      // The channel closed before the transport told us (abandon): its tags are void and the
      // broker redelivers what is unacked. Not a failed commit: nothing to retry.
      this.opts.log.warn(`could not ack on ${this.opts.queue}: ${(e as Error).message}`);
    }
  }

  /** Runs the handler; a batch that failed for its content is narrowed down to single messages. */
  private async process(
    lane: Lane,
    batch: ConsumeMessage[],
    inbound: InboundMessage[],
    alone = false,
  ): Promise<number> {
    let verdict: BatchVerdict;
    // A message retried alone is followed by the rest of its batch, not by the buffer.
    const following = alone
      ? () => []
      : () => lane.buffer.slice(0, this.opts.batchSize).map((t) => t.inbound);
    try {
      verdict = await this.opts.handler(
        inbound,
        new BatchContext([this.opts.queue, following, lane.index]),
      );
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
        rejected += await this.process(lane, [batch[i]], [inbound[i]], true);
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
