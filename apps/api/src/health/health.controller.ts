// Liveness, readiness (the database answers) and Prometheus metrics of the API app.
import { Controller, Get, Header, HttpException, HttpStatus } from '@nestjs/common';
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

  @Get('readyz')
  async readyz() {
    const database = await this.ds.query('SELECT 1').then(
      () => 'ok',
      (e: Error) => e.message,
    );
    if (database !== 'ok')
      throw new HttpException({ status: 'unavailable', database }, HttpStatus.SERVICE_UNAVAILABLE);
    return { status: 'ok', database };
  }

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  metricsText(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
