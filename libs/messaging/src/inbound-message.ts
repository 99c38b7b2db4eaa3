// What a batch handler receives for each delivery, and what it answers. Handlers answer with a
// verdict rather than throwing: Nest's RPC exception layer would turn any error into a generic
// "Internal server error" and lose whether it was transient.
import { BaseRpcContext } from '@nestjs/microservices';

export interface InboundMessage {
  content: Buffer;
  exchange: string;
  routingKey: string;
  headers: Record<string, unknown>;
  redelivered: boolean;
  /** The AMQP `timestamp` property (Unix seconds), when the publisher set one. */
  timestamp?: number;
  /**
   * The queue's `decode(content)`, run as the delivery arrived (while the previous batch was in
   * the database), when the queue has one.
   */
  decoded?: unknown;
  /** Arrival order in the process (set by the consumer): which of two deliveries came first. */
  position?: number;
}

export type BatchVerdict =
  /** Committed; the listed messages (by index) can never be processed and are dead-lettered. */
  | { outcome: 'done'; rejected: { index: number; reason: string }[] }
  /** Transient failure (database down): nothing is acked; the same batch is retried later. */
  | { outcome: 'retry'; reason: string }
  /** The batch failed for a reason tied to its content: narrowed down to single messages. */
  | { outcome: 'failed'; reason: string };

/** Beside a batch (Nest's `@Ctx()`): its queue, and a look at what the consumer holds after it. */
export class BatchContext extends BaseRpcContext<
  [string, () => InboundMessage[], (number | 'barrier')?]
> {
  getQueue(): string {
    return this.args[0];
  }

  /**
   * The queue's lane that holds this batch (0 with one lane), or 'barrier': a delivery applied
   * alone once every lane committed what came before it, before anything after it.
   */
  getLane(): number | 'barrier' {
    return this.args[2] ?? 0;
  }

  /**
   * The deliveries received after this batch, at the time of asking: most likely the next
   * batch, so a handler may start reading for it while this one is written. A hint only: they
   * may come in other batches, or again after a failure.
   */
  following(): InboundMessage[] {
    return this.args[1]();
  }
}

export type BatchHandler = (batch: InboundMessage[], ctx: BatchContext) => Promise<BatchVerdict>;
