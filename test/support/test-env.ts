// The test environment: a database whose name must contain "test" and a RabbitMQ vhost of its
// own, so that tests never touch a real deployment. CI sets TEST_DATABASE_URL / TEST_AMQP_URL.
import { AppConfig, loadConfig } from '@app/config';

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/registrations_test';
export const TEST_AMQP_URL =
  process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/registrations-test';

export function assertTestDatabase(url: string): void {
  const name = new URL(url).pathname.replace(/^\//, '');
  if (!/test/i.test(name)) {
    throw new Error(`refusing to run tests on database "${name}": its name must contain "test"`);
  }
}

export function testConfig(overrides: Partial<Record<string, string>> = {}): AppConfig {
  assertTestDatabase(overrides.DATABASE_URL ?? TEST_DATABASE_URL);
  return loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    AMQP_URL: TEST_AMQP_URL,
    QUEUE_PREFIX: 'regtest',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    INGEST_BATCH_LINGER_MS: '5',
    SWEEP_INTERVAL_MS: '200',
    DB_POOL_SIZE: '3',
    ...overrides,
  });
}
