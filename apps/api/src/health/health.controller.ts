// Liveness, readiness (the database answers) and Prometheus metrics of the API app.
import { Controller, Get, Header, HttpStatus, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { MetricsService } from '@app/observability';

@Controller()
export class HealthController {
  constructor(
    private readonly ds: DataSource,
    private readonly metrics: MetricsService,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  // Answered here, not thrown: an exception would be rendered by the Kazoo filter as its
  // envelope, and a load balancer or operator reading a 503 needs the reason.
  @Get('readyz')
  async readyz(@Res({ passthrough: true }) reply: FastifyReply) {
    const database = await this.ds.query('SELECT 1').then(
      () => 'ok',
      (e: Error) => e.message,
    );
    if (database !== 'ok') {
      void reply.status(HttpStatus.SERVICE_UNAVAILABLE);
      return { status: 'unavailable', database };
    }
    return { status: 'ok', database };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
