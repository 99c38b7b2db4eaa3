// The real apps for tests, each registered to be closed when the file ends if the file does not
// close it (test/support/cleanup.ts): a test that starts an app itself uses these.
import 'reflect-metadata';
import type { AppConfig } from '@app/config';
import { createApiApp } from '../../apps/api/src/api.bootstrap';
import { createIngestApp, IngestApp } from '../../apps/ingest/src/ingest.bootstrap';
import { closeAppAtFileEnd } from './cleanup';

export async function startIngestApp(config: AppConfig, port = 0): Promise<IngestApp> {
  const ingest = await createIngestApp(config, { port });
  closeAppAtFileEnd('ingest app', ingest.app);
  return ingest;
}

export async function startApiApp(
  config: AppConfig,
  port = 0,
  opts: { consoleDir?: string } = {},
): Promise<Awaited<ReturnType<typeof createApiApp>>> {
  const api = await createApiApp(config, { port, ...opts });
  closeAppAtFileEnd('api app', api.app);
  return api;
}
