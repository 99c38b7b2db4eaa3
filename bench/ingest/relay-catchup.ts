// npm run bench:relay-catchup: how fast the change relay drains a backlog, on its own. The
// outbox of the last bench:ingest storm (BENCH_DATABASE_URL, 100,000 changes) is marked
// unpublished, and the product's ChangeRelayService publishes it to registrations.changes
// (BENCH_AMQP_URL) while a queue of ours counts what arrives. Prints changes/s and CPU
// seconds of node (this process: the relay), its Postgres backends and RabbitMQ: the relay's
// ceiling without a storm around it. Under a storm the relay must publish at least as fast as
// the ingest commits, or the feed's lag grows for as long as the storm lasts.
import 'reflect-metadata';
import { performance } from 'node:perf_hooks';
import * as amqp from 'amqplib';
import { loadConfig } from '@app/config';
import { createDataSource } from '@app/persistence/data-source';
import { ChangeRelayService } from '../../apps/ingest/src/change-relay.service';
import { readFileSync } from 'node:fs';
import { Pool } from 'pg';
import {
  BENCH_AMQP_URL,
  BENCH_DATABASE_URL,
  benchBackends,
  QUEUE_PREFIX,
  TOPOLOGY,
} from './bench-env';
import { cpuReport, cpuSnapshot } from '../support/proc-cpu';

async function main(): Promise<void> {
  const ds = createDataSource(BENCH_DATABASE_URL, 2, 'registrations-bench-relay');
  await ds.initialize();
  const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM registration_changes`);
  if (n === 0) throw new Error('no changes in the outbox: run npm run bench:ingest first');
  await ds.query(`UPDATE registration_changes_relay SET published_through = 0 WHERE id = 1`);
  const conn = await amqp.connect(BENCH_AMQP_URL);
  const ch = await conn.createChannel();
  await ch.assertExchange(TOPOLOGY.changes.name, TOPOLOGY.changes.type, { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, TOPOLOGY.changes.name, '#');
  let received = 0;
  await ch.consume(queue, () => void received++, { noAck: true });
  const config = loadConfig({
    ...process.env,
    DATABASE_URL: BENCH_DATABASE_URL,
    AMQP_URL: BENCH_AMQP_URL,
    QUEUE_PREFIX,
  });
  const relay = new ChangeRelayService(ds, config);
  const cpu0 = cpuSnapshot();
  const t0 = performance.now();
  let passes = 0;
  while ((await relay.relayOnce()) > 0) passes++;
  const published = performance.now() - t0;
  while (received < n) await new Promise((r) => setTimeout(r, 10));
  const ms = performance.now() - t0;
  const cpu1 = cpuSnapshot();
  const pool = new Pool({ connectionString: BENCH_DATABASE_URL, max: 1 });
  const pg = await benchBackends(pool, { app: 'registrations-bench-relay', match: true });
  await pool.end();
  const cpu = cpuReport(cpu0, cpu1, process.pid, pg);
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(
    `relay catch-up: ${n} changes in ${passes} passes, published (confirmed) in ${published.toFixed(0)} ms, ` +
      `all received in ${ms.toFixed(0)} ms: ${Math.round((n / ms) * 1000)} changes/s; ${cpu}; load ${load}`,
  );
  await relay.onModuleDestroy();
  await conn.close();
  await ds.destroy();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
