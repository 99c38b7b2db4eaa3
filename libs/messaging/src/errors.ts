// Retryable and non-retryable failures are different types: the transport retries the first
// (with backoff, acking nothing) and isolates the second down to single messages it dead-letters.

/** Transient: the database or broker is unavailable; the same batch will succeed later. */
export class RetryableError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
  }
}

/** This message can never be processed; the reason travels with it to the dead-letter queue. */
export class NonRetryableError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}
