// Liveness, readiness (database answers and RabbitMQ connected) and Prometheus metrics.
import { Controller, Get, Header, HttpException, HttpStatus, Inject } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MetricsService } from '@app/observability';
import { AmqpTransport } from '@app/messaging';

export const INGEST_TRANSPORT = Symbol('INGEST_TRANSPORT');

@Controller()
export class HealthController {
  constructor(
    private readonly ds: DataSource,
    private readonly metrics: MetricsService,
    @Inject(INGEST_TRANSPORT) private readonly transport: AmqpTransport,
  ) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz() {
    const database = await this.ds.query('SELECT 1').then(
      () => 'ok',
      (e: Error) => e.message,
    );
    const broker = this.transport.isConnected ? 'ok' : 'disconnected';
    const body = {
      status: database === 'ok' && broker === 'ok' ? 'ok' : 'unavailable',
      database,
      broker,
    };
    if (body.status !== 'ok') throw new HttpException(body, HttpStatus.SERVICE_UNAVAILABLE);
    return body;
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
