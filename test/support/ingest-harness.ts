// Starts the real ingest app against the test database and vhost, with helpers to reset state.
import 'reflect-metadata';
import type { Pool } from 'pg';
import type { IngestApp } from '../../apps/ingest/src/ingest.bootstrap';
import { startIngestApp } from './apps';
import { TestBroker } from './amqp';
import { resetDatabase, testPool } from './database';
import { testConfig } from './test-env';

export interface Harness {
  ingest: IngestApp;
  broker: TestBroker;
  pool: Pool;
  stop(): Promise<void>;
}

export async function startIngest(
  overrides: Partial<Record<string, string>> = {},
): Promise<Harness> {
  const pool = testPool();
  await resetDatabase(pool);
  const broker = await TestBroker.open();
  await broker.purge();
  const ingest = await startIngestApp(testConfig(overrides));
  const harness: Harness = {
    ingest,
    broker,
    pool,
    async stop() {
      // harness.ingest, not the first app: a test may have replaced it (restart scenarios).
      await harness.ingest.app.close();
      await broker.close();
      await pool.end();
    },
  };
  return harness;
}
