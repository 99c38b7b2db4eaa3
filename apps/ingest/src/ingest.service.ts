// What happens to a batch of proxy messages: parse each into a domain event (rejecting the
// unparseable with a reason), then apply them in order to the store. A reg_flush from another
// system splits the batch so that events before and after it apply in order around it.
import { Injectable, Logger } from '@nestjs/common';
import {
  FlushCommand,
  implausibleEventTime,
  isFlush,
  ParseResult,
  RegistrationEvent,
} from '@app/registrations';
import { BatchContext, BatchVerdict, InboundMessage } from '@app/messaging';
import { BatchOptions, isTransientDbError, RegistrationStore } from '@app/persistence';
import { MetricsService } from '@app/observability';

export type Parser = (body: Buffer) => ParseResult;

@Injectable()
export class IngestService {
  private readonly logger = new Logger(IngestService.name);
  /** Per queue, the time of the last event seen (a lower bound for a later flush's publication). */
  private readonly lastEventUs = new Map<string, number>();

  constructor(
    private readonly store: RegistrationStore,
    private readonly metrics: MetricsService,
  ) {
    store.onStep = (step, seconds) => metrics.batchStepSeconds.observe({ step }, seconds);
  }

  /** `ctx`: the batch's queue (its lane in the store) and a look at the messages after it. */
  async ingest(batch: InboundMessage[], parse: Parser, ctx?: BatchContext): Promise<BatchVerdict> {
    const rejected: { index: number; reason: string }[] = [];
    const steps: (RegistrationEvent[] | TimedFlush)[] = [];
    let run: RegistrationEvent[] = [];
    // The time of the last event before a flush in this queue (this batch or an earlier one):
    // the flush was published after it, whenever it is processed (after an outage, much later).
    // The last one, not the latest: one proxy's clock running ahead must not date every flush.
    const lane = ctx?.getQueue();
    let lastUs = (lane !== undefined && this.lastEventUs.get(lane)) || 0;
    batch.forEach((m, index) => {
      const r = (m.decoded as ParseResult | undefined) ?? parse(m.content);
      if (!r.ok) {
        rejected.push({ index, reason: r.error.message });
        return;
      }
      if (isFlush(r.event)) {
        if (r.event.ours) return; // applied by the API when it published it
        if (run.length) steps.push(run);
        run = [];
        const stampedUs = m.timestamp !== undefined ? m.timestamp * 1e6 : undefined;
        const publishedUs =
          stampedUs !== undefined && !implausibleEventTime(stampedUs) ? stampedUs : lastUs;
        steps.push({ flush: r.event, publishedUs });
      } else {
        run.push(r.event);
        lastUs = r.event.eventUs;
      }
    });
    if (run.length) steps.push(run);
    if (lane !== undefined && lastUs > 0) this.lastEventUs.set(lane, lastUs);

    const stopTimer = this.metrics.commitSeconds.startTimer();
    // The store reads for the messages that follow while this batch's last events are written.
    const next = ctx ? () => eventsOf(ctx.following(), parse) : undefined;
    try {
      for (const [i, step] of steps.entries()) {
        if (!Array.isArray(step)) await this.applyFlush(step.flush, step.publishedUs);
        else
          await this.applyEvents(step, { lane, next: i === steps.length - 1 ? next : undefined });
      }
    } catch (e) {
      const message = (e as Error)?.message ?? String(e);
      if (isTransientDbError(e))
        return { outcome: 'retry', reason: `database unavailable: ${message}` };
      return { outcome: 'failed', reason: `database_rejected: ${message}` };
    }
    stopTimer();
    return { outcome: 'done', rejected };
  }

  private async applyEvents(events: RegistrationEvent[], opts: BatchOptions): Promise<void> {
    const result = await this.store.applyBatch(events, opts);
    for (const e of events) this.metrics.events.inc({ kind: e.kind, origin: e.origin });
    if (result.stale) this.metrics.ignoredEvents.inc({ why: 'stale' }, result.stale);
    if (result.duplicates) this.metrics.ignoredEvents.inc({ why: 'duplicate' }, result.duplicates);
    if (result.unassigned) this.metrics.unassignedEvents.inc(result.unassigned);
    for (const ch of result.changes) {
      if (ch.change !== 'registered' && ch.change !== 'refreshed')
        this.metrics.ended.inc({ reason: ch.change });
    }
  }

  /**
   * A reg_flush from another system: Kamailio drops that realm's (or user's) bindings, so do we,
   * and only those Kamailio holds (FreeSWITCH keeps its own). It happened when it was published:
   * the AMQP timestamp if the publisher set one, else no earlier than the last event before it
   * in the queue (0 when none was seen since start-up: then only events older than a binding's
   * own last one are stale). So a phone that registered again after the flush, but is
   * processed after it, stays.
   */
  private async applyFlush(flush: FlushCommand, publishedUs: number): Promise<void> {
    const nowUs = Date.now() * 1000;
    const atUs = publishedUs > 0 ? Math.min(publishedUs, nowUs) : nowUs;
    const ended = await this.store.endBindings(
      { realm: flush.realm, username: flush.username, origin: 'kazoo' },
      'flushed',
      { atUs, guardUs: publishedUs > 0 ? Math.floor(atUs / 1e6) * 1e6 : 0 },
    );
    this.metrics.events.inc({ kind: 'flush', origin: 'kazoo' });
    for (const b of ended) this.metrics.ended.inc({ reason: b.endReason ?? 'flushed' });
    this.logger.log(
      `reg_flush for ${flush.username ? `${flush.username}@` : ''}${flush.realm}: ended ${ended.length} bindings`,
    );
  }
}

/** A reg_flush and when it was published (µs; 0 when nothing tells). */
interface TimedFlush {
  flush: FlushCommand;
  publishedUs: number;
}

/** The registration events among messages (what a batch of them would apply, flushes aside). */
function eventsOf(messages: InboundMessage[], parse: Parser): RegistrationEvent[] {
  const events: RegistrationEvent[] = [];
  for (const m of messages) {
    const r = (m.decoded as ParseResult | undefined) ?? parse(m.content);
    if (r.ok && !isFlush(r.event)) events.push(r.event);
  }
  return events;
}
