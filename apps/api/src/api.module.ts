// The HTTP app: the registrations dialects over one store, auth, flush, health and metrics.
import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { EdgeInputGuard } from './common/edge-input.guard';
import { ApiAuthRateLimiter } from './auth/api-auth-rate-limiter';
import { AppConfig, ConfigModule } from '@app/config';
import { PersistenceModule } from '@app/persistence';
import { loggerModule, MetricsService } from '@app/observability';
import { AuthService } from './auth/auth.service';
import { DialectUsersAuthService } from './auth/dialect-users.service';
import { KazooJwtVerifier } from './auth/kazoo-jwt';
import { RegQueryResponder } from './reg-query/reg-query.responder';
import { ChangesController, ChangeSchemaController } from './changes/changes.controller';
import { ConsoleActionsController } from './console/console-actions.controller';
import { ConsoleController } from './console/console.controller';
import { ConsoleStatsController } from './console/console-stats.controller';
import { ConsoleHealthService } from './console/console-health.service';
import { ExtensionRegistrationsController } from './extensions/extension-registrations.controller';
import { ExtensionRegistrationsService } from './extensions/extension-registrations.service';
import { CommandPublisher } from './flush/command-publisher';
import { FlushRegistrationsService } from './flush/flush-registrations.service';
import { HealthController } from './health/health.controller';
import { RegistrationHistoryController } from './history/registration-history.controller';
import { ApiAuthController } from './kazoo/api-auth.controller';
import { KazooExceptionFilter } from './kazoo/kazoo-exception.filter';
import { KazooRegistrationsController } from './kazoo/registrations.controller';
import { KazooListService } from './kazoo/kazoo-list.service';
import { AccountScopeService } from './common/account-scope.service';
import { ReconcileController } from './kazoo/reconcile.controller';
import { ReconcileRegistrationsService } from '@app/reconcile';
import { SipxcomRegistrationsController } from './sipxcom/sipxcom-registrations.controller';
import { SipxcomRegistrationsService } from './sipxcom/sipxcom-registrations.service';

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
      controllers: [
        HealthController,
        ApiAuthController,
        KazooRegistrationsController,
        ReconcileController,
        ChangesController,
        ChangeSchemaController,
        RegistrationHistoryController,
        SipxcomRegistrationsController,
        ExtensionRegistrationsController,
        ConsoleController,
        ConsoleActionsController,
        ConsoleStatsController,
      ],
      providers: [
        MetricsService,
        AuthService,
        DialectUsersAuthService,
        KazooJwtVerifier,
        RegQueryResponder,
        ApiAuthRateLimiter,
        KazooListService,
        ReconcileRegistrationsService,
        CommandPublisher,
        FlushRegistrationsService,
        AccountScopeService,
        SipxcomRegistrationsService,
        ExtensionRegistrationsService,
        ConsoleHealthService,
        { provide: APP_FILTER, useClass: KazooExceptionFilter },
        { provide: APP_GUARD, useClass: EdgeInputGuard },
      ],
    };
  }
}
