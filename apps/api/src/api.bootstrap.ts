// Builds the Fastify HTTP app (used by main.ts, the tests and the benchmark): request ids
// (X-Request-ID echoed or generated), OpenAPI at /openapi.json and Swagger UI at /docs.
import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import fastifyCors from '@fastify/cors';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@app/config';
import { startupLogger } from '@app/observability';
import { ApiModule } from './api.module';
import { rewriteSipxcomSuffix } from './sipxcom/sipxcom-suffix';
import { formOrJsonBody } from './http/form-or-json-body';
import { rewriteKazooRequest } from './kazoo/kazoo-request-rewrite';
import { registerConsoleAssets } from './console/console-assets';

export async function createApiApp(
  config: AppConfig,
  opts: { port?: number; consoleDir?: string } = {},
) {
  const adapter = new FastifyAdapter({
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID().replace(/-/g, ''),
    trustProxy: true,
    routerOptions: { ignoreTrailingSlash: true },
    // sipXconfig's .json/.xml suffixes (apps/api/src/sipxcom/sipxcom-suffix.ts); Kazoo's /v1 paths
    // and crossbar's ?verb= method tunnel (apps/api/src/kazoo/kazoo-request-rewrite.ts).
    rewriteUrl: (req: IncomingMessage) =>
      (req.url ?? '/').startsWith('/sipxconfig/')
        ? rewriteSipxcomSuffix(req)
        : rewriteKazooRequest(req),
  });
  // Bodies as Kazoo's crossbar reads them: an empty JSON body is {} (many clients send
  // Content-Type: application/json on every request, DELETE included), and JSON sent as a form
  // is JSON. Anything else goes to Fastify's own JSON parser (400 on malformed JSON).
  const server = adapter.getInstance();
  const json = server.getDefaultJsonParser('error', 'error');
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    (body as string).trim() === '' ? done(null, {}) : json(req, body as string, done),
  );
  server.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_req, body, done) => {
      let parsed: unknown;
      try {
        parsed = formOrJsonBody(body as string);
      } catch (e) {
        return done(Object.assign(e as Error, { statusCode: 400 }), undefined);
      }
      done(null, parsed);
    },
  );
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot(config), adapter, {
    // Not buffered: while Postgres is unreachable at start-up, its retry lines must show.
    logger: startupLogger(config),
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  const fastify = app.getHttpAdapter().getInstance();
  // Set as the request arrives (a synchronous hook: no promise per request), before the CORS
  // hook, so every answer carries it: errors, 404s and preflights included.
  fastify.addHook('onRequest', (req, reply, done) => {
    void reply.header('x-request-id', req.id);
    done();
  });
  // Browser clients (Monster UI) live on other origins and send X-Auth-Token: answer preflights.
  // Registered on Fastify itself rather than through app.enableCors(), whose hook also copies
  // every CORS header onto the raw response for Nest middleware (we have none; the one hijacked
  // reply, the change feed, writes them itself): that copy was 8 % of count throughput (A/B
  // with wrk, bench/api).
  // (@fastify/cors is typed against the root fastify; Nest's adapter has its own fastify 5.)
  await app.register(fastifyCors as unknown as Parameters<NestFastifyApplication['register']>[0], {
    origin:
      config.CORS_ORIGINS === '*' ? true : config.CORS_ORIGINS.split(',').map((o) => o.trim()),
    methods: ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'],
    // Kazoo's own list (api_util get_cors_headers): Monster UI sends X-Kazoo-Cluster-ID when
    // configured with a cluster id, and browsers preflight every header they add.
    allowedHeaders: [
      'X-Auth-Token',
      'Authorization',
      'Content-Type',
      'Accept',
      'X-Request-ID',
      'Last-Event-ID',
      'X-Kazoo-Cluster-ID',
      'X-HTTP-Method-Override',
      'X-Requested-With',
      'If-Match',
      'If-Modified-Since',
      'Cache-Control',
      'Depth',
      'X-File-Name',
      'X-File-Size',
    ],
    exposedHeaders: ['X-Request-ID', 'X-Next-Start-Key'],
    maxAge: 600,
  });
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Registrations service')
      .setDescription(
        'Live SIP registrations: Kazoo, sipXcom and hosted-PBX dialects over one store',
      )
      .setVersion('0.1.0')
      .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Auth-Token' }, 'X-Auth-Token')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'openapi.json' });
  await registerConsoleAssets(app, opts.consoleDir);
  await app.listen(opts.port ?? config.PORT, config.HOST);
  return { app, url: await app.getUrl() };
}
