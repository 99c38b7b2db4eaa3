// `npm start`: validates the configuration, prepares the database (create if missing,
// migrations) once, then runs both apps as child processes and stops both on SIGTERM/SIGINT.
import { spawn, ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { APP_NODE_FLAGS, ConfigError, loadConfig } from '@app/config';
import { createDataSource, initializeDataSource } from '@app/persistence';

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
  const ds = createDataSource(config.DATABASE_URL, 1, 'registrations-setup');
  await initializeDataSource(ds, config.DATABASE_URL, (m) => console.log(`[setup] ${m}`));
  await ds.destroy();

  const root = path.resolve(__dirname, '..');
  const apps: ChildProcess[] = (['ingest', 'api'] as const).map((name) =>
    spawn(
      process.execPath,
      [...APP_NODE_FLAGS[name], path.join(root, 'apps', name, 'src', 'main.js')],
      {
        stdio: 'inherit',
        env: process.env,
      },
    ),
  );
  console.log(
    `[start] ingest (health/metrics on :${config.INGEST_PORT}) and api (:${config.PORT}) starting`,
  );
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    for (const a of apps) if (a.exitCode === null) a.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  let exited = 0;
  for (const a of apps) {
    a.on('exit', (code) => {
      exited++;
      if (!stopping) {
        console.error(`[start] an app exited (code ${code}); stopping the other`);
        process.exitCode = code || 1;
        stop('SIGTERM');
      }
      if (exited === apps.length) process.exit();
    });
  }
}

main().catch((e: unknown) => {
  console.error(`start-up failed: ${(e as Error)?.stack ?? String(e)}`);
  process.exit(1);
});
