// The ingest's two statements per batch (the pre-read and the write) as named prepared
// statements on the pool: parsed and planned once per connection instead of for every batch.
// TypeORM's query() sends an unnamed statement each time; for the write of 1,000 first
// registrations that planning cost about 20 ms of Postgres CPU of 175 (docs/benchmarks.md,
// "Postgres CPU of a first-registration batch"). Inside a transaction (a QueryRunner: the rare
// conflict and new-account paths) the statement stays unnamed.
import type { Pool } from 'pg';
import { DataSource, QueryRunner } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';

export async function queryPrepared<T = Record<string, unknown>>(
  db: Pick<DataSource | QueryRunner, 'query'>,
  name: string,
  text: string,
  values: unknown[],
): Promise<T[]> {
  if (!(db instanceof DataSource)) return db.query(text, values);
  const pool = (db.driver as PostgresDriver).master as Pool;
  return (await pool.query({ name, text, values })).rows as T[];
}
