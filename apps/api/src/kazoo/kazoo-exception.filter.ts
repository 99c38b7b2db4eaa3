// Every error under the Kazoo paths (and the console's) in Kazoo's envelope, never a stack
// trace: the shared ApiError codes as kazoo-error.render.ts says, the Kazoo dialect's own
// KazooError as it is, Nest's and Fastify's errors as crossbar would answer them.
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errorEnvelope, KazooError } from './kazoo-envelope';
import { authTokenOf } from '../auth/auth.service';
import { allowedMethods } from './kazoo-routes';
import { ApiError } from '../common/api-error';
import { KazooRendering, renderKazooError } from './kazoo-error.render';
import { isTransientDbError } from '@app/persistence';

@Catch()
export class KazooExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('KazooApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<FastifyRequest>();
    const reply = http.getResponse<FastifyReply>();
    const ctx = { authToken: authTokenOf(req), requestId: String(req.id) };
    const r = this.render(exception, req);
    for (const [name, value] of Object.entries(r.headers)) void reply.header(name, value);
    void reply
      .status(r.status)
      .header('content-type', 'application/json')
      .send(errorEnvelope(ctx, r.status, r.message, r.data));
  }

  private render(exception: unknown, req: FastifyRequest): KazooRendering {
    if (exception instanceof ApiError) return renderKazooError(exception);
    if (exception instanceof KazooError) {
      return {
        status: exception.status,
        message: exception.code,
        data: exception.data,
        headers: {},
      };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      // Nest's 404 for a known path and another method: crossbar answers 405.
      const allowed = status === 404 ? allowedMethods(req.url) : undefined;
      if (allowed) return renderKazooError(ApiError.methodNotAllowed(req.method, allowed));
      if (status === 404) return plain(404, 'not_found', 'not found');
      if (status === 400 || status === 415 || status === 413)
        return plain(status, 'invalid request', exception.message);
      return plain(status, exception.message, exception.message);
    }
    if ((exception as { statusCode?: number }).statusCode === 400)
      return plain(400, 'invalid request', (exception as Error).message); // Fastify's own (malformed JSON body…)
    if (isTransientDbError(exception)) {
      // The database away: 503, try again later (as crossbar answers), never a 500.
      this.logger.warn(`request ${String(req.id)}: database unavailable: ${errorText(exception)}`);
      return renderKazooError(ApiError.databaseUnavailable());
    }
    this.logger.error(
      `request ${String(req.id)} failed: ${(exception as Error)?.stack ?? String(exception)}`,
    );
    return plain(500, 'internal_error', 'internal error');
  }
}

function plain(status: number, message: string, text: string): KazooRendering {
  return { status, message, data: { message: text }, headers: {} };
}

function errorText(e: unknown): string {
  return (e as Error)?.message ?? String(e);
}
