// The product as production runs it: `node dist/apps/ingest/src/main.js` in its own process,
// configured by the environment only, stopped with SIGTERM. Timed from the first delivery (the
// queues' ready count first drops; the consumer starts before /readyz answers) until /metrics
// counts every message as committed (acks follow commits) and the queues are empty. Then, with
// the app still running, `afterLastCommit` (the change feed's probes wait there for the changes
// the relay publishes after the last commit), and only then the app is stopped.
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { ChannelModel } from 'amqplib';
import { APP_NODE_FLAGS } from '@app/config/node-flags';
import { cpuReport, cpuSeconds, cpuSnapshot } from '../support/proc-cpu';
import { metricSum } from '../../scripts/support/prometheus-text';

const MAIN = resolve(__dirname, '../../apps/ingest/src/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface ProductRun {
  env: Record<string, string>;
  port: number;
  total: number;
  conn: ChannelModel;
  queues: string[];
  timeoutMs: number;
  /** The Postgres backends serving the app, asked at the end of the run. */
  backends: () => Promise<number[]>;
  /** The API app running beside it (the SSE probe): its CPU is reported as `api`. */
  api?: { pid: number; backends: () => Promise<number[]> };
  /**
   * Runs after the last commit (the wave is timed by then) and before the app is stopped: what
   * must see the app's work after its last commit, such as the relay publishing the last
   * changes. Its lines are returned in `afterLines`.
   */
  afterLastCommit?: () => Promise<string[]>;
}

export interface ProductResult {
  ms: number;
  metrics: string;
  cpu: string;
  log: string;
  afterLines: string[];
}

export async function runProduct(o: ProductRun): Promise<ProductResult> {
  const log = join(tmpdir(), `registrations-bench-ingest-${process.pid}-${Date.now()}.log`);
  const out = createWriteStream(log);
  // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof": to look inside the app.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...APP_NODE_FLAGS.ingest, ...nodeArgs, MAIN], {
    env: { ...process.env, ...o.env, INGEST_PORT: String(o.port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.pipe(out);
  child.stderr.pipe(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  const deadline = Date.now() + o.timeoutMs;
  const check = () => {
    if (exited) throw new Error(`the ingest app exited early; see ${log}`);
    if (Date.now() > deadline) throw new Error(`the ingest app did not finish in time; see ${log}`);
  };
  const url = `http://127.0.0.1:${o.port}`;
  let ok = false;
  const ch = await o.conn.createChannel(); // one channel for all polls: cheap for the broker
  const ready = async () => {
    let n = 0;
    for (const q of o.queues) n += (await ch.checkQueue(q)).messageCount;
    return n;
  };
  try {
    // First delivery: the consumer takes up to a prefetch of messages off the ready count.
    let t0 = 0;
    while (!t0) {
      check();
      if ((await ready()) < o.total) t0 = performance.now();
      else await sleep(5);
    }
    const cpu0 = cpuSnapshot(); // from the first delivery: Nest's boot is not ingest work
    while (
      (await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )) === false
    ) {
      check();
      await sleep(50);
    }
    let metrics = '';
    for (;;) {
      check();
      metrics = await fetch(`${url}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      const seen =
        metricSum(metrics, 'registrations_events_total') +
        metricSum(metrics, 'registrations_dead_lettered_total');
      if (seen >= o.total) break;
      await sleep(50);
    }
    const ms = performance.now() - t0;
    const cpu1 = cpuSnapshot();
    let cpu = cpuReport(cpu0, cpu1, child.pid ?? -1, await o.backends());
    if (o.api) {
      const { pid } = o.api;
      const pg = await o.api.backends();
      const s = (pick: (p: number) => boolean) => cpuSeconds(cpu0, cpu1, pick).toFixed(1);
      cpu += `, api ${s((p) => p === pid)} (its postgres ${s((p) => pg.includes(p))})`;
    }
    while ((await ready()) > 0) {
      check();
      await sleep(50);
    }
    const afterLines = (await o.afterLastCommit?.()) ?? [];
    if (exited) throw new Error(`the ingest app exited before it was stopped; see ${log}`);
    ok = true;
    return { ms, metrics, cpu, log, afterLines };
  } finally {
    await stop(child, exited);
    await ch.close().catch(() => undefined);
    out.end();
    if (ok) rmSync(log, { force: true }); // kept only when something went wrong
  }
}

/** SIGTERM (the app finishes its batch, acks and exits), SIGKILL if it hangs. */
async function stop(child: ChildProcess, exited: boolean): Promise<void> {
  if (exited || child.exitCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await gone;
  clearTimeout(timer);
}
