// Every error under the Kazoo paths in Kazoo's envelope, never a stack trace.
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorEnvelope, KazooError } from './kazoo-envelope';
import { authTokenOf } from '../auth/auth.service';
import { allowedMethods } from './kazoo-routes';
import { ApiError } from '../common/api-error';
import { isTransientDbError } from '@app/persistence';

@Catch()
export class KazooExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('KazooApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const ctx = { authToken: authTokenOf(req), requestId: String(req.id) };
    let status = 500;
    let code = 'internal_error';
    let data: unknown = { message: 'internal error' };
    if (exception instanceof ApiError) {
      ({ status, code, data } = kazooErrorOf(exception));
      for (const [name, value] of Object.entries(exception.headers)) void reply.header(name, value);
    } else if (exception instanceof KazooError) {
      ({ status, code, data } = exception);
      if (status === 405) void reply.header('allow', (allowedMethods(req.url) ?? []).join(', '));
    } else if (exception instanceof HttpException) {
      status = exception.getStatus();
      const allowed = status === 404 ? allowedMethods(req.url) : undefined;
      if (allowed) {
        ({ status, code, data } = KazooError.invalidMethod());
        void reply.header('allow', allowed.join(', '));
      } else if (status === 404) {
        code = 'not_found';
        data = { message: 'not found' };
      } else if (status === 400 || status === 415 || status === 413) {
        code = 'invalid request';
        data = { message: exception.message };
      } else {
        code = exception.message;
        data = { message: exception.message };
      }
    } else if ((exception as { statusCode?: number }).statusCode === 400) {
      status = 400; // Fastify's own (malformed JSON body…)
      code = 'invalid request';
      data = { message: (exception as Error).message };
    } else if (isTransientDbError(exception)) {
      // The database away (restarting, unreachable): as Kazoo answers when its datastore is
      // (crossbar cb_context:add_system_error(datastore_unreachable) — 503 "datastore timeout"),
      // so that a client tries again later instead of reading a 500.
      ({ status, code, data } = KazooError.datastoreUnreachable());
      void reply.header('retry-after', '1');
      this.logger.warn(`request ${ctx.requestId}: database unavailable: ${errorText(exception)}`);
    } else {
      this.logger.error(
        `request ${ctx.requestId} failed: ${(exception as Error)?.stack ?? String(exception)}`,
      );
    }
    void reply
      .status(status)
      .header('content-type', 'application/json')
      .send(errorEnvelope(ctx, status, code, data));
  }
}

/** A shared ApiError as Kazoo renders it: 400s in its validation format. */
function kazooErrorOf(e: ApiError): KazooError {
  if (e.status === 400 && e.field !== undefined)
    return KazooError.validation(e.field, e.rule ?? 'format', e.message);
  return new KazooError(e.status, e.code, { message: e.message });
}

function errorText(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}
