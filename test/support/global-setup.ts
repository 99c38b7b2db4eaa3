// Once before the e2e files: the test database (created, migrated) and the test vhost.
import 'tsconfig-paths/register'; // globalSetup runs outside jest's moduleNameMapper
import 'reflect-metadata';
import { createDataSource, initializeDataSource } from '../../libs/persistence/src';
import { assertTestDatabase, TEST_AMQP_URL, TEST_DATABASE_URL } from './test-env';
import { ensureVhost } from '../../scripts/support/rabbitmq-vhost';

export default async function globalSetup(): Promise<void> {
  assertTestDatabase(TEST_DATABASE_URL);
  const ds = createDataSource(TEST_DATABASE_URL, 2, 'registrations-test-setup');
  await initializeDataSource(ds, TEST_DATABASE_URL, () => undefined);
  await ds.destroy();
  await ensureVhost(TEST_AMQP_URL);
}
