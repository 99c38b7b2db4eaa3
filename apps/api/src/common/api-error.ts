// One error model for every dialect: an error with a stable code (its HTTP status follows from
// the code), thrown by shared code (auth, account scope, input checks, rate limits) and by the
// dialects' own services. Each dialect's exception filter only renders it in its envelope:
// Kazoo (and the console) in crossbar's (kazoo/kazoo-error.render.ts), sipXcom and hosted PBX as
// `{"error": "<code>", "message": "<text>"}` (sipxcom/dialect-error.render.ts).

export type ApiErrorCode =
  | 'invalid_input'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'too_many_requests'
  | 'unavailable';

/** The HTTP status of each code: the same in every dialect. */
export const API_ERROR_STATUS: Readonly<Record<ApiErrorCode, number>> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  too_many_requests: 429,
  unavailable: 503,
};

export interface ApiErrorDetails {
  /** The input at fault (a query or path parameter name, `body`, a header name). */
  field?: string;
  /** The rule it broke, as in Kazoo's validation data (`type`, `format`, `maximum`…). */
  rule?: string;
  /** The identifier that named nothing (Kazoo's `cause` of bad_identifier). */
  subject?: string;
  /** The methods the resource accepts (the Allow header of a 405). */
  allowed?: readonly string[];
  /** Headers the answer carries whatever the dialect (Retry-After, WWW-Authenticate). */
  headers?: Readonly<Record<string, string | string[]>>;
}

export class ApiError extends Error {
  readonly status: number;
  readonly field?: string;
  readonly rule?: string;
  readonly subject?: string;
  readonly allowed?: readonly string[];
  readonly headers: Readonly<Record<string, string | string[]>>;

  constructor(
    readonly code: ApiErrorCode,
    message: string,
    details: ApiErrorDetails = {},
  ) {
    super(message);
    this.status = API_ERROR_STATUS[code];
    this.field = details.field;
    this.rule = details.rule;
    this.subject = details.subject;
    this.allowed = details.allowed;
    this.headers = details.headers ?? {};
  }

  /** 400: an input no handler may see (a NUL byte, a value out of range, a malformed key). */
  static invalidInput(field: string, rule: string, message: string): ApiError {
    return new ApiError('invalid_input', message, { field, rule });
  }

  /** 400 naming no single field (the dialects' own parameter checks). */
  static badRequest(message: string): ApiError {
    return new ApiError('invalid_input', message);
  }

  /** 401: missing, unknown or expired credentials. */
  static unauthenticated(headers?: Record<string, string | string[]>): ApiError {
    return new ApiError('unauthenticated', 'missing, unknown or expired credentials', { headers });
  }

  /** 403: the caller is known but may not act on this resource. */
  static forbidden(message = 'these credentials may not act on this resource'): ApiError {
    return new ApiError('forbidden', message);
  }

  /** 404: `subject` (an account id, a user name) names nothing the caller may see. */
  static notFound(message: string, subject?: string): ApiError {
    return new ApiError('not_found', message, { subject });
  }

  /** 405 with the methods the resource accepts. */
  static methodNotAllowed(method: string, allowed: readonly string[]): ApiError {
    return new ApiError('method_not_allowed', `${method} is not allowed here`, { allowed });
  }

  /** 429 with Retry-After (whole seconds, at least 1). */
  static tooManyRequests(message: string, retryAfterS: number): ApiError {
    return new ApiError('too_many_requests', message, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterS))) },
    });
  }

  /** 503: a service this request needs (the message bus) cannot be reached. */
  static unavailable(message: string): ApiError {
    return new ApiError('unavailable', message);
  }

  /** 503 with Retry-After: the database is away (restarting, refusing connections). */
  static databaseUnavailable(): ApiError {
    return new ApiError('unavailable', 'the database is unavailable', {
      subject: DATASTORE,
      headers: { 'retry-after': '1' },
    });
  }
}

/** The `subject` of a 503 whose missing service is the database (Kazoo names it apart). */
export const DATASTORE = 'datastore';
