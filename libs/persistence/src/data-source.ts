// The TypeORM DataSource (synchronize off: the schema comes from migrations only).
import { DataSource } from 'typeorm';
import { AccountEntity } from './entities/account.entity';
import { ExtensionEntity } from './entities/extension.entity';
import { RegistrationEntity, RegistrationHistoryEntity } from './entities/registration.entity';
import { MIGRATIONS } from './migrations';

export function createDataSource(
  databaseUrl: string,
  poolSize = 5,
  applicationName = 'registrations',
): DataSource {
  return new DataSource({
    type: 'postgres',
    url: databaseUrl,
    entities: [AccountEntity, ExtensionEntity, RegistrationEntity, RegistrationHistoryEntity],
    migrations: MIGRATIONS,
    synchronize: false,
    migrationsRun: false,
    logging: false, // failures are reported by the callers; TypeORM would dump whole batches' parameters
    applicationName,
    extra: { max: poolSize, connectionTimeoutMillis: 5000 },
  });
}
