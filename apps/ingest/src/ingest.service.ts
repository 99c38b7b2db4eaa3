// Hands each batch of proxy messages to its queue's lane (IngestLane), which parses, dates and
// applies it. One lane per queue, created on its first batch.
import { Injectable, Logger } from '@nestjs/common';
import type { BatchContext, BatchVerdict, InboundMessage } from '@app/messaging';
import { RegistrationStore } from '@app/persistence';
import { MetricsService } from '@app/observability';
import { IngestLane, Parser } from './ingest-lane';

export type { Parser } from './ingest-lane';

@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  private readonly lanes = new Map<string, IngestLane>();

  constructor(
    private readonly store: RegistrationStore,
    private readonly metrics: MetricsService,
  ) {
    store.onStep = (step, seconds) => metrics.batchStepSeconds.observe({ step }, seconds);
  }

  /** `ctx`: the batch's queue (its lane) and a look at the messages after it. */
  ingest(batch: InboundMessage[], parse: Parser, ctx: BatchContext): Promise<BatchVerdict> {
    return this.lane(ctx.getQueue(), parse).apply(batch, () => ctx.following());
  }

  /** The queue's lane (a queue has one parser: its lane is created with it). */
  lane(queue: string, parse: Parser): IngestLane {
    let lane = this.lanes.get(queue);
    if (!lane) {
      lane = new IngestLane(queue, parse, this.store, this.metrics, this.logger);
      this.lanes.set(queue, lane);
    }
    return lane;
  }
}
