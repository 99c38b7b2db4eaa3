// What one lane (a queue, or later one hash partition of a queue) does with a batch of parsed
// messages: which are dead letters, which runs of events apply together, and when each
// reg_flush from another system was published. Pure: the same lane state and the same messages
// give the same plan, so a batch retried after a database error, split to find a poison
// message, or delivered again after a crash is dated exactly as its first try was. The lane
// moves its state to `next` only once the batch committed.
import { createHash } from 'node:crypto';
import { implausibleEventTime } from './time';
import type { ParseResult } from './parse-result';
import { FlushCommand, isFlush, RegistrationEvent } from './registration-event';

/** What a lane knows of its queue, as of its last committed batch. */
export interface LaneState {
  /**
   * Time (µs) of the last event of the lane's queue, in queue order (not the latest: one
   * proxy's clock running ahead must not date every later flush); 0 when none was seen.
   */
  lastEventUs: number;
  /** That event's place in queue order (the consumer's arrival position); -1 when none. */
  lastEventPos: number;
}

export const INITIAL_LANE_STATE: LaneState = Object.freeze({ lastEventUs: 0, lastEventPos: -1 });

/** One delivery as the lane plans it: its parse result and its AMQP timestamp (Unix s). */
export interface LaneMessage {
  parsed: ParseResult;
  timestampS?: number;
  /** Arrival position in the queue (InboundMessage.position); -1 when unknown. */
  position?: number;
}

/**
 * The state of a queue split into lanes, as one lane over the whole queue would have it, once
 * every lane committed everything before a point (a barrier): the state of the lane that holds
 * the latest event in queue order.
 */
export function mergeLaneStates(states: readonly LaneState[]): LaneState {
  let merged = INITIAL_LANE_STATE;
  for (const s of states) if (s.lastEventPos > merged.lastEventPos) merged = s;
  return merged;
}

/**
 * The lane (0 ≤ lane < n) of an AOR: FNV-1a of its key (realm and username, case folded as
 * the binding key folds them), so every event of a binding goes to the same lane.
 */
export function laneOfAor(realm: string, username: string, n: number): number {
  if (n <= 1) return 0;
  const key = `${realm.toLowerCase()}\u0000${username.toLowerCase()}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % n;
}

/** A reg_flush from another system and when it was published (µs; 0 when nothing tells). */
export interface TimedFlush {
  flush: FlushCommand;
  publishedUs: number;
  /**
   * What recognises it when delivered again (applied_flushes): its Msg-ID, else one derived
   * from its content and AMQP timestamp (flushIdentity). Undefined: nothing identifies it, and
   * a redelivery applies it again.
   */
  id?: string;
}

export type LaneStep = { events: RegistrationEvent[] } | TimedFlush;

export interface LanePlan {
  /** In queue order: runs of events (one store batch each) and the flushes between them. */
  steps: LaneStep[];
  /** Messages that can never be processed, by index in the batch. */
  rejected: { index: number; reason: string }[];
  /** The lane's state once this batch committed. */
  next: LaneState;
}

export function isFlushStep(s: LaneStep): s is TimedFlush {
  return 'flush' in s;
}

/**
 * Plans a batch. A flush was published after every event before it in the queue, whenever it
 * is processed: it is dated by its AMQP timestamp when plausible, else by the last event before
 * it (in this batch or, through `state`, in the lane's earlier batches). Our own flushes'
 * echoes are dropped (the API applied them when it published them).
 */
export function planLane(state: LaneState, messages: readonly LaneMessage[]): LanePlan {
  const steps: LaneStep[] = [];
  const rejected: LanePlan['rejected'] = [];
  let run: RegistrationEvent[] = [];
  let lastUs = state.lastEventUs;
  let lastPos = state.lastEventPos;
  messages.forEach(({ parsed, timestampS, position }, index) => {
    if (!parsed.ok) {
      rejected.push({ index, reason: parsed.error.message });
      return;
    }
    const e = parsed.event;
    if (!isFlush(e)) {
      run.push(e);
      lastUs = e.eventUs;
      lastPos = position ?? -1;
      return;
    }
    if (e.ours) return;
    if (run.length) steps.push({ events: run });
    run = [];
    const id = e.msgId ?? flushIdentity(e, timestampS);
    steps.push({ flush: e, publishedUs: flushTimeUs(timestampS, lastUs), ...(id ? { id } : {}) });
  });
  if (run.length) steps.push({ events: run });
  return { steps, rejected, next: { lastEventUs: lastUs, lastEventPos: lastPos } };
}

/**
 * The identity of a reg_flush without a Msg-ID: what it flushes (realm, username, Call-ID,
 * contact URI, case as the store compares them) and its AMQP timestamp, which the broker
 * keeps on a redelivery. Two such flushes of the same bindings stamped in the same second
 * count as one: the second could only end a phone that registered again within that second,
 * which the flush's guard keeps anyway (flushTiming). Without a plausible timestamp there is
 * none: content alone would merge every later flush of the same AOR, so such a flush is
 * applied again when delivered again (docs/reliability.md).
 */
export function flushIdentity(
  flush: FlushCommand,
  timestampS: number | undefined,
): string | undefined {
  if (timestampS === undefined || implausibleEventTime(timestampS * 1e6)) return undefined;
  const what = [
    flush.realm.toLowerCase(),
    flush.username?.toLowerCase() ?? null,
    flush.callId ?? null,
    flush.contactUri ?? null,
    Math.floor(timestampS),
  ];
  return `derived:${createHash('sha256').update(JSON.stringify(what)).digest('hex')}`;
}

/** The AMQP timestamp if plausible, else the last event before the flush (0: none known). */
export function flushTimeUs(timestampS: number | undefined, lastEventUs: number): number {
  const stampedUs = timestampS !== undefined ? timestampS * 1e6 : undefined;
  return stampedUs !== undefined && !implausibleEventTime(stampedUs) ? stampedUs : lastEventUs;
}

/**
 * When a flush takes effect, given when it was published and the time it is processed: no
 * later than now; `guardUs` makes the flushed bindings' events up to the start of that second
 * stale (proxies stamp whole seconds: a phone re-registering within the flush's second stays).
 * Published at an unknown time (0): now, and no guard beyond each binding's own last event.
 */
export function flushTiming(publishedUs: number, nowUs: number): { atUs: number; guardUs: number } {
  const atUs = publishedUs > 0 ? Math.min(publishedUs, nowUs) : nowUs;
  return { atUs, guardUs: publishedUs > 0 ? Math.floor(atUs / 1e6) * 1e6 : 0 };
}
