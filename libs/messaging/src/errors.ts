// Transient failures are a type of their own: the consumer retries them with backoff and acks
// nothing, whereas a failure tied to a message's content is isolated and dead-lettered.

/** Transient: the database or broker is unavailable; the same batch will succeed later. */
export class RetryableError extends Error {
  constructor(
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}
