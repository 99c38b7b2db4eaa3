// Runs a background job again and again, never overlapping with itself: each run returns the
// delay before the next; a failed run is logged and retried with a growing backoff; stop()
// waits for a run in progress. Used by the expiry sweeper and the change relay.
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
      this.running = this.run()
        .then(
          (nextDelayMs) => {
            this.backoffMs = this.opts.initialBackoffMs;
            this.start(nextDelayMs);
          },
          (e: Error) => {
            this.warn(`${this.name} failed (${e.message}); retrying in ${this.backoffMs} ms`);
            this.start(this.backoffMs);
            this.backoffMs = Math.min(this.backoffMs * 2, this.opts.maxBackoffMs);
          },
        )
        .finally(() => (this.running = undefined));
    }, delayMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
