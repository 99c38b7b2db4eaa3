// Hands each batch of proxy messages to its lane (IngestLane), which parses, dates and applies
// it. A queue has INGEST_LANES lanes (the consumer deals deliveries to them by a hash of the
// AOR), each created on its first batch; a barrier (a reg_flush) is applied by a lane started
// from the merge of the queue's lanes' states, once they all committed what came before it.
import { Injectable, Logger } from '@nestjs/common';
import type { BatchContext, BatchVerdict, InboundMessage } from '@app/messaging';
import { RegistrationStore } from '@app/persistence';
import { MetricsService } from '@app/observability';
import { mergeLaneStates } from '@app/registrations';
import { IngestLane, Parser } from './ingest-lane';

export type { Parser } from './ingest-lane';

@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  /** By queue, then lane number. */
  private readonly lanes = new Map<string, Map<number, IngestLane>>();
  /** Unix ms: when a flush of unknown publication time takes effect (a model's clock in tests). */
  clock: () => number = () => Date.now();

  constructor(
    private readonly store: RegistrationStore,
    private readonly metrics: MetricsService,
  ) {
    store.onStep = (step, seconds) => metrics.batchStepSeconds.observe({ step }, seconds);
  }

  /** `ctx`: the batch's queue (its lane) and a look at the messages after it. */
  ingest(batch: InboundMessage[], parse: Parser, ctx: BatchContext): Promise<BatchVerdict> {
    const n = ctx.getLane();
    if (n === 'barrier') return this.barrier(ctx.getQueue(), parse, batch);
    return this.lane(ctx.getQueue(), parse, n).apply(batch, () => ctx.following());
  }

  /** A queue's lane (a queue has one parser: its lanes are created with it). */
  lane(queue: string, parse: Parser, n = 0): IngestLane {
    let lanes = this.lanes.get(queue);
    if (!lanes) this.lanes.set(queue, (lanes = new Map()));
    let lane = lanes.get(n);
    if (!lane) {
      const name = n === 0 ? queue : `${queue}#${n}`;
      lane = new IngestLane(name, parse, this.store, this.metrics, this.logger, this.clock);
      lanes.set(n, lane);
    }
    return lane;
  }

  /**
   * Applies a barrier batch (a reg_flush): every lane of the queue committed everything before
   * it, so it is dated as one lane over the whole queue would date it, and no lane's read-ahead
   * may outlive it.
   */
  private barrier(queue: string, parse: Parser, batch: InboundMessage[]): Promise<BatchVerdict> {
    const lanes = [...(this.lanes.get(queue)?.values() ?? [])];
    for (const l of lanes) l.discardReadAhead();
    const state = mergeLaneStates(lanes.map((l) => l.committed));
    const lane = new IngestLane(
      queue,
      parse,
      this.store,
      this.metrics,
      this.logger,
      this.clock,
      state,
    );
    return lane.apply(batch);
  }
}
