// The ingest app: AMQP consumer (proxy events → Postgres), expiry sweeper, reconciliation with
// the proxies, health and metrics.
import { DynamicModule, Module } from '@nestjs/common';
import { AppConfig, ConfigModule } from '@app/config';
import { PersistenceModule } from '@app/persistence';
import { loggerModule, MetricsService } from '@app/observability';
import { AmqpTransport } from '@app/messaging';
import { ChangeRelayService } from './change-relay.service';
import { ExpirySweeperService } from './expiry-sweeper.service';
import { HealthController, INGEST_TRANSPORT } from './health.controller';
import { IngestService } from './ingest.service';
import { ReconcileRegistrationsService } from '@app/reconcile';
import { ReconcileScheduler } from './reconcile-scheduler';
import { RegistrationEventsController } from './registration-events.controller';

@Module({})
export class IngestModule {
  static forRoot(
    config: AppConfig,
    metrics: MetricsService,
    transport: AmqpTransport,
  ): DynamicModule {
    return {
      module: IngestModule,
      imports: [
        ConfigModule.forRoot(config),
        loggerModule(config.LOG_LEVEL, 'ingest'),
        PersistenceModule.forRoot('registrations-ingest'),
      ],
      controllers: [RegistrationEventsController, HealthController],
      providers: [
        IngestService,
        ExpirySweeperService,
        ChangeRelayService,
        ReconcileRegistrationsService,
        ReconcileScheduler,
        { provide: MetricsService, useValue: metrics },
        { provide: INGEST_TRANSPORT, useValue: transport },
      ],
    };
  }
}
