// Runs a background job again and again, never overlapping with itself: each run returns the
// delay before the next; a failed run is logged and retried with a growing backoff; stop()
// waits for a run in progress; wake() cuts a wait short (a run in progress is followed by
// another at once), except a backoff after a failure. Used by the expiry sweeper and the
// change relay.
export interface PeriodicTaskOptions {
  /** First retry delay after a failure; doubles up to maxBackoffMs. */
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export class PeriodicTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private backoffMs: number;
  /** The last run failed: waiting out the backoff, which wake() does not cut short. */
  private failing = false;
  /** wake() came during a run: the next one starts at once. */
  private woken = false;

  constructor(
    private readonly name: string,
    private readonly run: () => Promise<number>,
    private readonly warn: (message: string) => void,
    private readonly opts: PeriodicTaskOptions,
  ) {
    this.backoffMs = opts.initialBackoffMs;
  }

  start(delayMs = 0): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.woken = false;
      this.running = this.run()
        .then(
          (nextDelayMs) => {
            this.failing = false;
            this.backoffMs = this.opts.initialBackoffMs;
            this.start(this.woken ? 0 : nextDelayMs);
          },
          (e: Error) => {
            this.failing = true;
            this.warn(`${this.name} failed (${e.message}); retrying in ${this.backoffMs} ms`);
            this.start(this.backoffMs);
            this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
          },
        )
        .finally(() => (this.running = undefined));
    }, delayMs);
  }

  /** There is work now: run at once (or right after the run in progress), unless backing off. */
  wake(): void {
    if (this.stopped || this.failing) return;
    if (this.timer) {
      // Waiting for the next run (also right after a run, before `running` is cleared).
      clearTimeout(this.timer);
      this.start(0);
    } else if (this.running) this.woken = true;
    // Neither: never started (the task is off), so nothing to wake.
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
