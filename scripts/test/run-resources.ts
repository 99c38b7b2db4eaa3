// The database, vhost and queue prefix of one `npm test` run, and the leftovers of earlier runs.
// Names carry who made them — a hash of the host name, the runner's pid, its start time — and a
// random part: `registrations_test_<host>_<pid>_<start>_<rand>` (vhost the same with dashes).
// A leftover is removed when its runner is dead (same host, pid gone or no longer a test
// runner), or, made on another host, when older than a day; a live concurrent run's never.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { Client } from 'pg';
import { deleteVhost, listVhosts } from '../support/rabbitmq-vhost';

export interface RunResources {
  databaseUrl: string;
  amqpUrl: string;
  queuePrefix: string;
  database: string;
  vhost: string;
}

export const HOST = createHash('md5').update(hostname()).digest('hex').slice(0, 4);
const NAME = /^registrations[_-]test[_-]([0-9a-f]{4})[_-](\d+)[_-]([0-9a-z]+)[_-]([0-9a-f]{4})$/;
const FOREIGN_HOST_MAX_AGE_S = 24 * 3600;

export function runResources(baseDatabaseUrl: string, baseAmqpUrl: string): RunResources {
  const start = Math.floor(Date.now() / 1000).toString(36);
  const id = [HOST, process.pid, start, randomBytes(2).toString('hex')];
  const database = `registrations_test_${id.join('_')}`;
  const vhost = `registrations-test-${id.join('-')}`;
  const db = new URL(baseDatabaseUrl);
  db.pathname = `/${database}`;
  const amqp = new URL(baseAmqpUrl);
  amqp.pathname = `/${encodeURIComponent(vhost)}`;
  return {
    databaseUrl: db.toString(),
    amqpUrl: amqp.toString(),
    queuePrefix: `regtest-${process.pid}-${id[3]}`,
    database,
    vhost,
  };
}

/** Whether a resource of this name belongs to no live run (and so may be removed). */
export function isLeftover(name: string, nowS = Date.now() / 1000): boolean {
  const m = NAME.exec(name);
  if (!m) return false;
  const [, host, pid, start] = m;
  if (host !== HOST) return nowS - parseInt(start, 36) > FOREIGN_HOST_MAX_AGE_S;
  return Number(pid) !== process.pid && !isTestRunner(Number(pid));
}

function isTestRunner(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('run-tests');
  } catch {
    return false; // no such process
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export async function removeRun(r: RunResources, adminUrl: string): Promise<void> {
  await dropDatabase(adminUrl, r.database);
  await deleteVhost(r.amqpUrl);
}

/** Removes the databases and vhosts of dead runs; returns what it removed. */
export async function removeLeftovers(adminUrl: string, baseAmqpUrl: string): Promise<string[]> {
  const removed: string[] = [];
  const { rows } = await withClient(adminUrl, (c) =>
    c.query<{ datname: string }>('SELECT datname FROM pg_database'),
  );
  for (const { datname } of rows) {
    if (!isLeftover(datname)) continue;
    await dropDatabase(adminUrl, datname);
    removed.push(`database ${datname}`);
  }
  for (const vhost of await listVhosts(baseAmqpUrl)) {
    if (!isLeftover(vhost)) continue;
    const u = new URL(baseAmqpUrl);
    u.pathname = `/${encodeURIComponent(vhost)}`;
    await deleteVhost(u.toString());
    removed.push(`vhost ${vhost}`);
  }
  return removed;
}

/** The server's maintenance database (`postgres`) for create/drop. */
export function adminUrlOf(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  u.pathname = '/postgres';
  return u.toString();
}

export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => undefined);
  }
}
