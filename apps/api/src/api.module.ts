// The HTTP app: the three registrations dialects over one store (added by later issues),
// health and metrics.
import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@app/config';
import { PersistenceModule } from '@app/persistence';
import { loggerModule, MetricsService } from '@app/observability';
import { HealthController } from './health/health.controller';

@Module({})
export class ApiModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: ApiModule,
      imports: [
        ConfigModule.forRoot(config),
        loggerModule(config.LOG_LEVEL, 'api'),
        PersistenceModule.forRoot('registrations-api'),
      ],
      controllers: [HealthController],
      providers: [MetricsService],
    };
  }
}
