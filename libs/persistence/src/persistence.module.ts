// Provides an initialised DataSource (database created if missing, migrations run) and the
// registration store. The DataSource closes last, after the transports finished their batches.
import {
  DynamicModule,
  Global,
  Inject,
  Logger,
  Module,
  OnApplicationShutdown,
} from '@nestjs/common';
import { DataSource } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { createDataSource } from './data-source';
import { initializeDataSource } from './database-setup';
import { RegistrationStore } from './registration.store';
import { AccountStore } from './account.store';
import { CredentialStore } from './credential.store';
import { RegistrationQueries } from './registration.queries';
import { ChangeQueries } from './change.queries';
import { DialectQueries } from './dialect.queries';
import { DialectUserStore } from './dialect-user.store';
import { ConsoleQueries } from './console.queries';
import { ConsoleStatsQueries } from './console-stats.queries';

@Global()
@Module({})
export class PersistenceModule implements OnApplicationShutdown {
  constructor(@Inject(DataSource) private readonly ds: DataSource) {}

  static forRoot(applicationName: string): DynamicModule {
    return {
      module: PersistenceModule,
      providers: [
        {
          provide: DataSource,
          inject: [APP_CONFIG],
          useFactory: async (config: AppConfig) => {
            const logger = new Logger('Database');
            const ds = createDataSource(config.DATABASE_URL, config.DB_POOL_SIZE, applicationName);
            await initializeDataSource(ds, config.DATABASE_URL, (m) => logger.log(m));
            return ds;
          },
        },
        RegistrationStore,
        AccountStore,
        CredentialStore,
        RegistrationQueries,
        ChangeQueries,
        DialectQueries,
        DialectUserStore,
        ConsoleQueries,
        ConsoleStatsQueries,
      ],
      exports: [
        DataSource,
        RegistrationStore,
        AccountStore,
        CredentialStore,
        RegistrationQueries,
        ChangeQueries,
        DialectQueries,
        DialectUserStore,
        ConsoleQueries,
        ConsoleStatsQueries,
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
