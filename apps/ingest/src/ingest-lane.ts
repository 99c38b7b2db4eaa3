// One lane: the batches of one queue, applied one after the other. Everything that is per queue
// lives here and nowhere else: parsing, dating the reg_flush messages of other systems (the
// lane's state, moved forward only when a batch committed, so a batch retried, split or
// delivered again is dated as its first try was), recognising a flush applied before (by its
// Msg-ID, in the flush's own transaction) and reading ahead for the next batch. The store keeps
// no per-lane state. A queue split into N lanes by a hash of the AOR (IngestService) has one
// instance per lane; a reg_flush is a barrier, applied once every lane committed what came
// before it, by a lane whose state is the merge of theirs (docs/design.md, "Lanes").
import type { Logger } from '@nestjs/common';
import {
  flushTiming,
  INITIAL_LANE_STATE,
  isFlush,
  isFlushStep,
  laneOfAor,
  LaneState,
  ParseResult,
  planLane,
  RegistrationEvent,
  TimedFlush,
} from '@app/registrations';
import { BARRIER, BatchVerdict, InboundMessage } from '@app/messaging';
import { isTransientDbError, ReadAhead, RegistrationStore } from '@app/persistence';
import type { BindingSelector } from '@app/persistence';
import type { MetricsService } from '@app/observability';

export type Parser = (body: Buffer) => ParseResult;

/**
 * A delivery's lane among `lanes`: its AOR's hash, so each binding's events stay in order in
 * one lane. A reg_flush (of a realm or of one user) is a barrier. A message that did not parse
 * goes to lane 0 (it is dead-lettered there on its own).
 */
export function laneOf(m: InboundMessage, lanes: number): number | typeof BARRIER {
  const r = m.decoded as ParseResult | undefined;
  if (!r?.ok) return 0;
  if (isFlush(r.event)) return BARRIER;
  return laneOfAor(r.event.realm, r.event.username, lanes);
}

export class IngestLane {
  /** As of the last committed batch. */
  private state: LaneState;
  private readonly readAhead = new ReadAhead();

  constructor(
    readonly name: string,
    private readonly parse: Parser,
    private readonly store: RegistrationStore,
    private readonly metrics: MetricsService,
    private readonly logger: Pick<Logger, 'log'>,
    /** Unix ms: when a flush of unknown publication time takes effect. */
    private readonly clock: () => number = () => Date.now(),
    initial: LaneState = INITIAL_LANE_STATE,
  ) {
    this.state = initial;
  }

  /** As of the last committed batch. */
  get committed(): LaneState {
    return this.state;
  }

  /** Forgets what was read ahead (a flush elsewhere made it older than the database). */
  discardReadAhead(): void {
    this.readAhead.discard();
  }

  /**
   * Applies a batch in queue order: runs of events through the store's batch write, flushes
   * between them. `following`: the deliveries likely to form the next batch (read ahead).
   */
  async apply(batch: InboundMessage[], following?: () => InboundMessage[]): Promise<BatchVerdict> {
    const plan = planLane(
      this.state,
      batch.map((m) => ({ parsed: this.parsed(m), timestampS: m.timestamp, position: m.position })),
    );
    const stopTimer = this.metrics.commitSeconds.startTimer();
    const next = following ? () => this.eventsOf(following()) : undefined;
    try {
      for (const [i, step] of plan.steps.entries()) {
        if (isFlushStep(step)) await this.applyFlush(step);
        else await this.applyEvents(step.events, i === plan.steps.length - 1 ? next : undefined);
      }
    } catch (e) {
      // The state stays as it was: the retry (or each message of a split) is dated the same.
      const message = (e as Error)?.message ?? String(e);
      if (isTransientDbError(e)) {
        this.metrics.batchRetries.inc({ queue: this.name });
        return { outcome: 'retry', reason: `database unavailable: ${message}` };
      }
      return { outcome: 'failed', reason: `database_rejected: ${message}` };
    }
    this.state = plan.next;
    stopTimer();
    return { outcome: 'done', rejected: plan.rejected };
  }

  private parsed(m: InboundMessage): ParseResult {
    return (m.decoded as ParseResult | undefined) ?? this.parse(m.content);
  }

  /** The registration events among messages (what a batch of them would apply, flushes aside). */
  private eventsOf(messages: InboundMessage[]): RegistrationEvent[] {
    const events: RegistrationEvent[] = [];
    for (const m of messages) {
      const r = this.parsed(m);
      if (r.ok && !isFlush(r.event)) events.push(r.event);
    }
    return events;
  }

  private async applyEvents(
    events: RegistrationEvent[],
    next: (() => RegistrationEvent[]) | undefined,
  ): Promise<void> {
    const result = await this.store.applyBatch(events, { readAhead: this.readAhead, next });
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
   * A reg_flush from another system: Kamailio drops that realm's (or user's, or, when it names
   * a Call-ID or contact, only those of the user's) bindings, so do we, and only those Kamailio
   * holds (FreeSWITCH keeps its own), as of when it was published. So a phone that registered
   * again after the flush, but is processed after it, stays. A flush with an identity (its
   * Msg-ID, else its content and AMQP timestamp) is applied once: delivered again, it changes
   * nothing.
   */
  private async applyFlush({ flush, publishedUs, id }: TimedFlush): Promise<void> {
    // The reader ahead's view is older than the flush: the next batch reads for itself.
    this.readAhead.discard();
    const timing = flushTiming(publishedUs, this.clock() * 1000);
    const selector: BindingSelector & { realm: string } = {
      realm: flush.realm,
      username: flush.username,
      // As the Kamailio route matches (route[FLUSH_CONTACT]): by Call-ID, else by contact URI.
      ...(flush.username !== undefined && flush.callId !== undefined
        ? { callId: flush.callId }
        : flush.username !== undefined && flush.contactUri !== undefined
          ? { contactUri: flush.contactUri }
          : {}),
      origin: 'kazoo' as const,
    };
    const ended = id
      ? await this.store.endBindingsOnce(id, selector, 'flushed', { ...timing, publishedUs })
      : await this.store.endBindings(selector, 'flushed', timing);
    const who =
      `${flush.username ? `${flush.username}@` : ''}${flush.realm}` +
      (selector.callId !== undefined
        ? ` (Call-ID ${selector.callId})`
        : selector.contactUri !== undefined
          ? ` (contact ${selector.contactUri})`
          : '');
    if (ended === undefined) {
      this.metrics.ignoredEvents.inc({ why: 'duplicate' });
      this.logger.log(`reg_flush ${id} for ${who} was applied before: nothing to do`);
      return;
    }
    this.metrics.events.inc({ kind: 'flush', origin: 'kazoo' });
    for (const b of ended) this.metrics.ended.inc({ reason: b.endReason ?? 'flushed' });
    this.logger.log(`reg_flush for ${who}: ended ${ended.length} bindings`);
  }
}
