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
    // The product reconciles with the proxies at start (a reg_sync): a test that wants it says so.
    RECONCILE_ON_START: 'false',
    // …and a reconciliation asked of an app with no Kamailio answering (a generated request)
    // gives up soon.
    RECONCILE_FIRST_ANSWER_MS: '300',
    // Lanes (docs/design.md): the product's default for the harness's pool of 3 (one lane);
    // INGEST_LANES=2 or 4 in the environment runs the suites with that many lanes (and a pool
    // large enough for them), as CI's second run does with 2.
    ...laneEnv(),
    ...overrides,
  });
}

/** INGEST_LANES from the environment, with a pool to match; else the defaults (pool 3). */
export function laneEnv(): Record<string, string> {
  const lanes = Number(process.env.INGEST_LANES || 0);
  return lanes > 0
    ? { INGEST_LANES: String(lanes), DB_POOL_SIZE: String(Math.max(3, lanes + 2)) }
    : { DB_POOL_SIZE: '3' };
}
