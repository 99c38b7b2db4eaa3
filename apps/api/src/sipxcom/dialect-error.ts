// Errors of the sipXcom and hosted-PBX dialects: an HTTP status and a JSON body
// `{"error": "<code>", "message": "<text>"}`, never a stack trace.

export class DialectError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly headers: Record<string, string | string[]> = {},
  ) {
    super(message);
  }

  static badRequest(message: string) {
    return new DialectError(400, 'bad_request', message);
  }
  static unauthorized() {
    return new DialectError(401, 'unauthorized', 'missing, unknown or expired credentials');
  }
  static forbidden(message = 'these credentials may not act on this resource') {
    return new DialectError(403, 'forbidden', message);
  }
  static notFound(message: string) {
    return new DialectError(404, 'not_found', message);
  }
  static methodNotAllowed(method: string, allowed: string[]) {
    return new DialectError(405, 'method_not_allowed', `${method} is not allowed here`, {
      allow: allowed.join(', '),
    });
  }
  static unavailable(message: string) {
    return new DialectError(503, 'service_unavailable', message);
  }
}
