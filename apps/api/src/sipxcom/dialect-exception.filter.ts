// Turns every error under the sipXcom and hosted-PBX paths into the dialects' body
// `{"error": "<code>", "message": "<text>"}` (dialect-error.render.ts): the shared ApiError,
// the flush path's errors, Nest's and Fastify's included; never a stack trace.
import { ArgumentsHost, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FlushError } from '../flush/flush-registrations.service';
import { ApiError } from '../common/api-error';
import { DialectRendering, renderDialectError } from './dialect-error.render';
import { isTransientDbError } from '@app/persistence';

export class DialectExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('DialectApi');

  /** @param challenge the WWW-Authenticate value sent with a 401 (unless the error has its own) */
  constructor(private readonly challenge: string) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const r = this.render(exception, req);
    if (r.status === 401) void reply.header('www-authenticate', this.challenge);
    for (const [name, value] of Object.entries(r.headers)) void reply.header(name, value);
    void reply
      .status(r.status)
      .header('content-type', 'application/json; charset=utf-8')
      .send(r.body);
  }

  private render(exception: unknown, req: FastifyRequest): DialectRendering {
    if (exception instanceof ApiError) return renderDialectError(exception);
    if (exception instanceof FlushError && exception.code === 'bus_unavailable')
      return renderDialectError(ApiError.unavailable(exception.message));
    if (isTransientDbError(exception)) {
      // The database away: 503, try again later, not a 500 the client cannot read.
      this.logger.warn(
        `request ${String(req.id)}: database unavailable: ${(exception as Error)?.message ?? String(exception)}`,
      );
      return renderDialectError(ApiError.databaseUnavailable());
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      if (status === 404)
        return renderDialectError(ApiError.notFound(`no resource ${req.url.split('?')[0]}`));
      if (status < 500) return plain(status, 'bad_request', exception.message);
    } else if ((exception as { statusCode?: number }).statusCode === 400) {
      return renderDialectError(ApiError.badRequest((exception as Error).message)); // Fastify's own
    }
    this.logger.error(
      `request ${String(req.id)} failed: ${(exception as Error)?.stack ?? String(exception)}`,
    );
    return plain(500, 'internal_error', 'internal error');
  }
}

function plain(status: number, error: string, message: string): DialectRendering {
  return { status, body: { error, message }, headers: {} };
}
