// Builds the ingest app (used by main.ts, the tests and the benchmark): Fastify for health and
// metrics on INGEST_PORT, and the AMQP transport consuming both proxies' queues.
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import { AppConfig, ingestLanes, ingestPrefetch, redactUrl } from '@app/config';
import { startupLogger } from '@app/observability';
import { AmqpTransport, topology } from '@app/messaging';
import { parseFreeswitchMessage, parseKazooMessage } from '@app/registrations';
import { MetricsService } from '@app/observability';
import { laneOf } from './ingest-lane';
import { IngestModule } from './ingest.module';
import { FREESWITCH_EVENTS, KAZOO_EVENTS } from './registration-events.controller';

export interface IngestApp {
  app: NestFastifyApplication;
  transport: AmqpTransport;
  metrics: MetricsService;
  url: string;
}

export async function createIngestApp(
  config: AppConfig,
  opts: { port?: number } = {},
): Promise<IngestApp> {
  const metrics = new MetricsService();
  const t = topology({
    kazooExchangeDurable: config.KAZOO_EXCHANGE_DURABLE,
    queuePrefix: config.QUEUE_PREFIX,
  });
  const transport = new AmqpTransport({
    url: config.AMQP_URL,
    displayUrl: redactUrl(config.AMQP_URL),
    prefetch: ingestPrefetch(config, ingestLanes(config)),
    batchSize: config.INGEST_BATCH_SIZE,
    lingerMs: config.INGEST_BATCH_LINGER_MS,
    lanes: ingestLanes(config),
    consumes: [
      // Parsed on arrival, while the previous batch is in the database.
      { pattern: KAZOO_EVENTS, queue: t.kazooQueue, decode: parseKazooMessage, laneOf },
      {
        pattern: FREESWITCH_EVENTS,
        queue: t.freeswitchQueue,
        decode: parseFreeswitchMessage,
        laneOf,
      },
    ],
    // Everything the ingest owns, declared on every (re)connection before the first message:
    // a subscriber may bind to registrations.changes before the relay has published anything.
    declare: {
      exchanges: [
        t.deadLetter,
        ...(config.CHANGE_FEED_ENABLED ? [t.changes] : []),
        ...(config.CHANGE_FEED_ENABLED && config.KAZOO_NOTIFICATIONS ? [t.notifications] : []),
      ],
      queues: [t.deadLetterQueue],
    },
    deadLetterExchange: t.deadLetter.name,
    metrics: {
      onBatch: (queue, size) => metrics.batchSize.observe({ queue }, size),
      onDeadLetter: (queue, reason) => metrics.deadLettered.inc({ queue, reason }),
      onConnection: (up) => metrics.brokerUp.set(up ? 1 : 0),
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    IngestModule.forRoot(config, metrics, transport),
    new FastifyAdapter(),
    // Not buffered: while Postgres is unreachable at start-up, its retry lines must show.
    { logger: startupLogger(config) },
  );
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  app.connectMicroservice({ strategy: transport }, { inheritAppConfig: true });
  // Health first: /healthz answers and /readyz says 503 while RabbitMQ is still being waited for.
  await app.listen(opts.port ?? config.INGEST_PORT, config.HOST);
  await app.startAllMicroservices();
  return { app, transport, metrics, url: await app.getUrl() };
}
