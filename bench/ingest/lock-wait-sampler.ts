// Samples pg_stat_activity of one database every 20 ms while a bench runs, and prints what the
// ingest's backends were doing: how often one waited on the change feed's outbox lock (an
// advisory lock) against how often one was busy (issue 17 point 2: "measure the lock's cost").
//   ts-node -r tsconfig-paths/register --transpile-only bench/ingest/lock-wait-sampler.ts <database> <seconds>
import { Client } from 'pg';

async function main(): Promise<void> {
  const [db, seconds] = [process.argv[2], Number(process.argv[3] ?? 300)];
  const client = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await client.connect();
  const counts = { samples: 0, active: 0, advisory: 0, otherLock: 0, io: 0, withActivity: 0 };
  const end = Date.now() + seconds * 1000;
  let stop = false;
  process.on('SIGTERM', () => (stop = true));
  process.on('SIGINT', () => (stop = true));
  while (Date.now() < end && !stop) {
    const { rows } = await client.query<{
      state: string;
      wtype: string | null;
      wevent: string | null;
    }>(
      `SELECT state, wait_event_type AS wtype, wait_event AS wevent FROM pg_stat_activity
        WHERE datname = $1 AND application_name LIKE '%ingest%' AND state = 'active'`,
      [db],
    );
    counts.samples++;
    if (rows.length) counts.withActivity++;
    for (const r of rows) {
      counts.active++;
      if (r.wtype === 'Lock' && r.wevent === 'advisory') counts.advisory++;
      else if (r.wtype === 'Lock') counts.otherLock++;
      else if (r.wtype === 'IO' || r.wtype === 'LWLock') counts.io++;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await client.end();
  const pct = (n: number) => `${((100 * n) / Math.max(1, counts.active)).toFixed(1)} %`;
  console.log(
    `${counts.samples} samples (${counts.withActivity} with an active ingest backend); ` +
      `active backend-samples ${counts.active}: waiting on the outbox lock ${counts.advisory} (${pct(counts.advisory)}), ` +
      `other locks ${counts.otherLock} (${pct(counts.otherLock)}), IO/LWLock ${counts.io} (${pct(counts.io)}); ` +
      `mean active ingest backends when any: ${(counts.active / Math.max(1, counts.withActivity)).toFixed(2)}`,
  );
}
void main();
