// Which deliveries of one channel may be acked with one multiple-ack. A channel's delivery tags
// grow in delivery order and a multiple-ack covers every tag up to the one it names, so with
// several lanes committing out of order only the run of settled deliveries at the front can be
// acked: up to just below the first one not settled yet (docs/design.md, "A queue in N lanes").

/** One tracked delivery: settled once it is committed or dead-lettered (confirmed). */
export interface AckSlot<T> {
  readonly value: T;
  settled: boolean;
}

export class AckWatermark<T> {
  /** Tracked deliveries not acked yet, in delivery order, from `head` on. */
  private pending: AckSlot<T>[] = [];
  private head = 0;

  /** Deliveries tracked and not acked yet. */
  get size(): number {
    return this.pending.length - this.head;
  }

  /** Records a delivery; called in delivery (tag) order. */
  track(value: T): AckSlot<T> {
    const slot = { value, settled: false };
    this.pending.push(slot);
    return slot;
  }

  /**
   * Marks `slots` settled. Returns the delivery to multiple-ack up to (the last of the settled
   * run at the front, now forgotten), or undefined when the front is still unsettled.
   */
  settle(slots: readonly AckSlot<T>[]): T | undefined {
    for (const s of slots) s.settled = true;
    let upTo: AckSlot<T> | undefined;
    while (this.head < this.pending.length && this.pending[this.head].settled)
      upTo = this.pending[this.head++];
    // Drop the acked prefix now and then, not on every call: amortised O(1) per delivery.
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head);
      this.head = 0;
    }
    return upTo?.value;
  }

  /** Forgets everything (the channel is gone: its tags are void). */
  clear(): void {
    this.pending = [];
    this.head = 0;
  }
}
