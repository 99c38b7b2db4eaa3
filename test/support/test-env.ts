// The test environment: a database whose name must contain "test", a RabbitMQ vhost and a queue
// prefix of its own, so that tests never touch a real deployment. `npm test`
// (scripts/test/run-tests.ts) sets all three to names of the run's own, so that neither a
// leftover nor a concurrent run can take its messages; `npx jest` alone uses the defaults.
import { AppConfig, loadConfig } from '@app/config';

export const TEST_DATABASE_URL =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/registrations_test';
export const TEST_AMQP_URL =
  process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672/registrations-test';
/** Our queues are <prefix>.kazoo, <prefix>.freeswitch, <prefix>.dead-letter. */
export const TEST_QUEUE_PREFIX = process.env.TEST_QUEUE_PREFIX ?? 'regtest';

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
    QUEUE_PREFIX: TEST_QUEUE_PREFIX,
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    INGEST_BATCH_LINGER_MS: '5',
    SWEEP_INTERVAL_MS: '200',
    // Lanes (docs/design.md): the tests run a queue in 4 lanes whatever the machine's cores
    // (INGEST_LANES=1 in the environment runs them on one lane, as the default does on 2 cores).
    DB_POOL_SIZE: '6',
    INGEST_LANES: process.env.INGEST_LANES || '4',
    ...overrides,
  });
}
