// bench:kamailio's product side: the ingest app as production runs it (`node
// dist/apps/ingest/src/main.js`, configured by the environment only), in its own process for
// both waves, ready once /readyz answers and it consumes its queue; stopped with SIGTERM.
import { ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as amqp from 'amqplib';
import { APP_NODE_FLAGS } from '@app/config/node-flags';

const INGEST_MAIN = resolve(__dirname, '../../apps/ingest/src/main.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface IngestProcess {
  pid: number;
  log: string;
  stop(): Promise<void>;
}

export async function startIngestProcess(o: {
  port: number;
  databaseUrl: string;
  amqpUrl: string;
  queuePrefix: string;
}): Promise<IngestProcess> {
  const log = join(
    tmpdir(),
    `registrations-kamailio-bench-ingest-${process.pid}-${Date.now()}.log`,
  );
  const out = createWriteStream(log);
  const child: ChildProcess = spawn(process.execPath, [...APP_NODE_FLAGS.ingest, INGEST_MAIN], {
    env: {
      ...process.env,
      DATABASE_URL: o.databaseUrl,
      AMQP_URL: o.amqpUrl,
      QUEUE_PREFIX: o.queuePrefix,
      INGEST_PORT: String(o.port),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info', // production's default
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async () => {
    if (!exited) {
      const gone = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await gone;
      clearTimeout(timer);
    }
    out.end();
  };
  const queue = `${o.queuePrefix}.kazoo`;
  const conn = await amqp.connect(o.amqpUrl);
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`the ingest app exited during start-up; see ${log}`);
      if (Date.now() > deadline) throw new Error(`the ingest app did not get ready; see ${log}`);
      const ready = await fetch(`http://127.0.0.1:${o.port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready && (await consumers(conn, queue)) > 0) break;
      await sleep(100);
    }
  } catch (e) {
    await stop();
    throw e;
  } finally {
    await conn.close().catch(() => undefined);
  }
  return { pid: child.pid ?? -1, log, stop };
}

/** Consumers of a queue (0 while it does not exist). */
export async function consumers(conn: amqp.ChannelModel, queue: string): Promise<number> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined);
  const q = await ch.checkQueue(queue).catch(() => undefined);
  await ch.close().catch(() => undefined);
  return q?.consumerCount ?? 0;
}
