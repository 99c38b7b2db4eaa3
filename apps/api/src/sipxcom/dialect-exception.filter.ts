// Turns every error under the sipXcom and hosted-PBX paths into a DialectError body: errors
// thrown by the shared auth (Kazoo's), the flush path, Nest and Fastify included.
import { ArgumentsHost, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FlushError } from '../flush/flush-registrations.service';
import { KazooError } from '../kazoo/kazoo-envelope';
import { DialectError } from './dialect-error';
import { ApiError } from '../common/api-error';
import { isTransientDbError } from '@app/persistence';

export class DialectExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('DialectApi');

  /** @param challenge the WWW-Authenticate value sent with a 401 */
  constructor(private readonly challenge: string) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const e = this.toDialectError(exception, req);
    if (e.status === 401) void reply.header('www-authenticate', this.challenge);
    for (const [name, value] of Object.entries(e.headers)) void reply.header(name, value);
    void reply
      .status(e.status)
      .header('content-type', 'application/json; charset=utf-8')
      .send({ error: e.error, message: e.message });
  }

  private toDialectError(exception: unknown, req: FastifyRequest): DialectError {
    if (exception instanceof DialectError) return exception;
    if (exception instanceof ApiError)
      return new DialectError(
        exception.status,
        exception.status === 400 ? 'bad_request' : exception.code,
        exception.message,
        exception.headers,
      );
    if (exception instanceof KazooError) {
      if (exception.status === 401) return DialectError.unauthorized();
      if (exception.status === 403) return DialectError.forbidden();
      if (exception.status === 404) return DialectError.notFound('not found');
      if (exception.status === 503) return DialectError.unavailable(exception.code);
      return new DialectError(exception.status, exception.code, JSON.stringify(exception.data));
    }
    if (exception instanceof FlushError && exception.code === 'bus_unavailable')
      return DialectError.unavailable(exception.message);
    if (isTransientDbError(exception)) {
      // The database away: 503, try again later, not a 500 the client cannot read.
      this.logger.warn(
        `request ${String(req.id)}: database unavailable: ${(exception as Error)?.message ?? String(exception)}`,
      );
      return new DialectError(503, 'service_unavailable', 'the database is unavailable', {
        'retry-after': '1',
      });
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404) return DialectError.notFound(`no resource ${req.url.split('?')[0]}`);
      if (status < 500) return new DialectError(status, 'bad_request', exception.message);
    } else if ((exception as { statusCode?: number }).statusCode === 400) {
      return DialectError.badRequest((exception as Error).message); // Fastify's own
    }
    this.logger.error(
      `request ${String(req.id)} failed: ${(exception as Error)?.stack ?? String(exception)}`,
    );
    return new DialectError(500, 'internal_error', 'internal error');
  }
}
