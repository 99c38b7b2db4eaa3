// Retrying a start-up dependency with exponential backoff and a message a person can act on.

export interface RetryOptions {
  what: string;
  hint: string;
  log: (msg: string) => void;
  initialMs?: number;
  maxMs?: number;
  /** Give up after this many attempts (default: never). */
  attempts?: number;
  signal?: AbortSignal;
}

export async function retryWithBackoff<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  let delay = opts.initialMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (opts.signal?.aborted || (opts.attempts !== undefined && attempt >= opts.attempts))
        throw e;
      opts.log(
        `${opts.what} is unreachable (${(e as Error).message || String(e)}); retrying in ${Math.round(delay / 100) / 10}s. ${opts.hint}`,
      );
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, opts.maxMs ?? 15000);
    }
  }
}
