// Start-up: create the database if it is missing, then run pending migrations under an
// advisory lock so that two apps starting together do not race.
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { redactUrl } from '@app/config';
import { retryWithBackoff } from './retry';

const MIGRATION_LOCK = 7_406_311;
export const POSTGRES_HINT =
  'Start it with `docker compose up -d postgres` (or your system service), or set DATABASE_URL.';

export async function ensureDatabase(databaseUrl: string, log: (m: string) => void): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres';
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  await retryWithBackoff(
    async () => {
      const client = new Client({
        connectionString: admin.toString(),
        connectionTimeoutMillis: 5000,
      });
      await client.connect();
      try {
        const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (found.rowCount === 0) {
          await client
            .query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`)
            .catch((e: { code?: string }) => {
              if (e.code !== '42P04') throw e; // created meanwhile by the other app
            });
          log(`created database ${name}`);
        }
      } finally {
        await client.end();
      }
    },
    { what: `Postgres at ${redactUrl(databaseUrl)}`, hint: POSTGRES_HINT, log },
  );
}

export async function initializeDataSource(
  ds: DataSource,
  databaseUrl: string,
  log: (m: string) => void,
): Promise<void> {
  await ensureDatabase(databaseUrl, log);
  await retryWithBackoff(() => ds.initialize(), {
    what: `Postgres at ${redactUrl(databaseUrl)}`,
    hint: POSTGRES_HINT,
    log,
  });
  // The lock lives on its own connection: the pool may hold a single one, which migrations need.
  const lock = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    const ran = await ds.runMigrations({ transaction: 'each' });
    for (const m of ran) log(`applied migration ${m.name}`);
  } finally {
    await lock.end().catch(() => undefined);
  }
}
