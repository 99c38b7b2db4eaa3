// Each shared ApiError code as a Kazoo client sees it. The names and texts are crossbar's:
// core/crossbar/src/cb_context.erl add_system_error/2 ('invalid_credentials' 401 "invalid
// credentials", 'forbidden' 403 "forbidden", 'bad_identifier' 404 "bad identifier") and
// add_validation_error/4 (400 "validation error", data {Field: {Rule: {message}}}).
import { ApiError, API_ERROR_STATUS, ApiErrorCode } from '../common/api-error';
import { renderKazooError } from './kazoo-error.render';

describe('renderKazooError', () => {
  it.each<[string, ApiError, number, string, unknown, Record<string, string>]>([
    [
      'invalid input with a field',
      ApiError.invalidInput('created_from', 'type', 'created_from must be an integer'),
      400,
      'validation error',
      { created_from: { type: { message: 'created_from must be an integer' } } },
      {},
    ],
    [
      'invalid input naming no field',
      ApiError.badRequest('bad'),
      400,
      'invalid request',
      { message: 'bad' },
      {},
    ],
    [
      'unauthenticated',
      ApiError.unauthenticated(),
      401,
      'invalid_credentials',
      { message: 'invalid credentials' },
      {},
    ],
    [
      'forbidden, whatever its text',
      ApiError.forbidden('not yours'),
      403,
      'forbidden',
      { message: 'forbidden' },
      {},
    ],
    [
      'not found, with the identifier as cause',
      ApiError.notFound('no account zz', 'zz'),
      404,
      'bad_identifier',
      { cause: 'zz', message: 'bad identifier' },
      {},
    ],
    [
      'method not allowed, with Allow',
      ApiError.methodNotAllowed('POST', ['GET', 'DELETE']),
      405,
      'invalid_method',
      { message: 'method not allowed' },
      { allow: 'GET, DELETE' },
    ],
    [
      'too many requests, with Retry-After',
      ApiError.tooManyRequests('too many requests', 2.2),
      429,
      'too_many_requests',
      { message: 'too many requests' },
      { 'retry-after': '3' },
    ],
    [
      'unavailable',
      ApiError.unavailable('message bus unreachable'),
      503,
      'service_unavailable',
      { message: 'message bus unreachable' },
      {},
    ],
  ])('%s', (_name, error, status, message, data, headers) => {
    expect(renderKazooError(error)).toEqual({ status, message, data, headers });
  });

  it('renders every code with the status the code stands for', () => {
    for (const code of Object.keys(API_ERROR_STATUS) as ApiErrorCode[]) {
      const r = renderKazooError(new ApiError(code, 'x', { field: 'f', allowed: ['GET'] }));
      expect(r.status).toBe(API_ERROR_STATUS[code]);
      expect(r.message).toEqual(expect.any(String));
    }
  });
});
