// The ingest's two statements per batch (the pre-read and the write) as named prepared
// statements on the pool: parsed and planned once per connection instead of for every batch.
// TypeORM's query() sends an unnamed statement each time, so Postgres parses and plans the
// write's long text for every batch: about 1–1.5 ms of planning per batch of 1,000 first
// registrations, against ~150 ms for the statement (bench/ingest/explain-storm.ts; a small
// saving, the same pattern as the API's hot reads). Inside a transaction (a QueryRunner: the
// rare conflict and new-account paths) the statement stays unnamed.
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
