// Each shared ApiError code as a sipXcom or hosted-PBX client sees it: the status and
// {"error", "message"} of api-dialects.md B and C.
import { ApiError, API_ERROR_STATUS, ApiErrorCode } from '../common/api-error';
import { renderDialectError } from './dialect-error.render';

describe('renderDialectError', () => {
  it.each<[string, ApiError, number, string, string, Record<string, string | string[]>]>([
    [
      'invalid input',
      ApiError.invalidInput('limit', 'type', 'limit must be an integer'),
      400,
      'bad_request',
      'limit must be an integer',
      {},
    ],
    ['a bad request', ApiError.badRequest('ip must be …'), 400, 'bad_request', 'ip must be …', {}],
    [
      'unauthenticated',
      ApiError.unauthenticated(),
      401,
      'unauthorized',
      'missing, unknown or expired credentials',
      {},
    ],
    [
      'unauthenticated with its own challenges',
      ApiError.unauthenticated({ 'www-authenticate': ['Digest a', 'Basic b'] }),
      401,
      'unauthorized',
      'missing, unknown or expired credentials',
      { 'www-authenticate': ['Digest a', 'Basic b'] },
    ],
    [
      'forbidden',
      ApiError.forbidden(),
      403,
      'forbidden',
      'these credentials may not act on this resource',
      {},
    ],
    ['not found', ApiError.notFound('Phone not found'), 404, 'not_found', 'Phone not found', {}],
    [
      'method not allowed, with Allow',
      ApiError.methodNotAllowed('PUT', ['GET', 'HEAD', 'DELETE']),
      405,
      'method_not_allowed',
      'PUT is not allowed here',
      { allow: 'GET, HEAD, DELETE' },
    ],
    [
      'too many requests',
      ApiError.tooManyRequests('too many requests', 0.1),
      429,
      'too_many_requests',
      'too many requests',
      { 'retry-after': '1' },
    ],
    ['unavailable', ApiError.unavailable('bus down'), 503, 'service_unavailable', 'bus down', {}],
  ])('%s', (_name, error, status, code, message, headers) => {
    expect(renderDialectError(error)).toEqual({ status, body: { error: code, message }, headers });
  });

  it('renders every code with the status the code stands for', () => {
    for (const code of Object.keys(API_ERROR_STATUS) as ApiErrorCode[])
      expect(renderDialectError(new ApiError(code, 'x')).status).toBe(API_ERROR_STATUS[code]);
  });
});
