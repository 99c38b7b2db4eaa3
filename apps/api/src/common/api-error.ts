// One error model for every dialect: an error with an HTTP status and a stable code, thrown by
// shared edge code (input validation, rate limits); each dialect's exception filter only renders
// it in its envelope (Kazoo: `{"error": "<status>", "message": "<code>", "data": …}`; sipXcom and
// hosted PBX: `{"error": "<code>", "message": "<text>"}`).

export type ApiErrorCode = 'invalid_input' | 'too_many_requests';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    message: string,
    /** The input at fault (a query or path parameter name, `body`, a header name). */
    readonly field?: string,
    /** The rule it broke, as in Kazoo's validation data (`type`, `format`, `maximum`…). */
    readonly rule?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** 400: an input no handler may see (a NUL byte, a value out of range, a malformed key). */
  static invalidInput(field: string, rule: string, message: string): ApiError {
    return new ApiError(400, 'invalid_input', message, field, rule);
  }

  /** 429 with Retry-After (whole seconds, at least 1). */
  static tooManyRequests(message: string, retryAfterS: number): ApiError {
    return new ApiError(429, 'too_many_requests', message, undefined, undefined, {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterS))),
    });
  }
}
