// Direct SQL for tests: reset between files and read what the service wrote.
import { Pool } from 'pg';
import { closeAtFileEnd } from './cleanup';
import { TEST_DATABASE_URL } from './test-env';

export function testPool(): Pool {
  const pool = new Pool({ connectionString: TEST_DATABASE_URL, max: 2 });
  closeAtFileEnd(
    'pg pool',
    () => pool.end(),
    () => !pool.ending && !pool.ended,
  );
  return pool;
}

export async function resetDatabase(pool: Pool): Promise<void> {
  await pool.query(
    'TRUNCATE registrations, registration_history, extensions, accounts, registration_changes, applied_flushes RESTART IDENTITY CASCADE',
  );
  // The change feed's positions restart with the sequence.
  await pool.query('UPDATE registration_changes_relay SET published_through = 0');
  await pool.query('UPDATE registration_changes_horizon SET pruned_through = 0');
}

export interface LiveRow {
  realm: string;
  username: string;
  contact_uri: string;
  account_id: string | null;
  call_id: string | null;
  refresh_count: number;
  expires: number;
  [k: string]: unknown;
}

export async function liveBindings(pool: Pool, realm?: string): Promise<LiveRow[]> {
  const { rows } = await pool.query(
    `SELECT * FROM registrations WHERE ended_at IS NULL AND expires_at > now() AND ($1::text IS NULL OR realm_key = lower($1))
     ORDER BY username_key, contact_uri`,
    [realm ?? null],
  );
  return rows as LiveRow[];
}

export async function history(
  pool: Pool,
  realm?: string,
): Promise<{ username: string; contact_uri: string; end_reason: string; refresh_count: number }[]> {
  const { rows } = await pool.query(
    `SELECT * FROM registration_history WHERE ($1::text IS NULL OR realm_key = lower($1)) ORDER BY id`,
    [realm ?? null],
  );
  return rows;
}

/** The binding changes recorded for a realm, in seq order: [username, change, call_id]. */
export async function realmChanges(pool: Pool, realm: string): Promise<[string, string, string][]> {
  const { rows } = await pool.query(
    `SELECT username, change, item->>'call_id' AS call_id FROM registration_changes
      WHERE lower(realm) = lower($1) ORDER BY seq`,
    [realm],
  );
  return rows.map((r: { username: string; change: string; call_id: string }) => [
    r.username,
    r.change,
    r.call_id,
  ]);
}
