// Builds the Fastify HTTP app (used by main.ts, the tests and the benchmark).
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger } from 'nestjs-pino';
import type { AppConfig } from '@app/config';
import { ApiModule } from './api.module';

export async function createApiApp(config: AppConfig, opts: { port?: number } = {}) {
  const app = await NestFactory.create<NestFastifyApplication>(
    ApiModule.forRoot(config),
    new FastifyAdapter(),
    {
      bufferLogs: true,
    },
  );
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
  await app.listen(opts.port ?? config.PORT, config.HOST);
  return { app, url: await app.getUrl() };
}
