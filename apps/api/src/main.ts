// Entry point of the HTTP API app.
import 'reflect-metadata';
import { ConfigError, loadConfig } from '@app/config';
import { createApiApp } from './api.bootstrap';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  }
  await createApiApp(config);
}

main().catch((e: unknown) => {
  console.error(`start-up failed: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
