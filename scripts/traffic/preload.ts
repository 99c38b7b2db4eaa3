// Benchmark preloader: publishes a prepared message array as fast as the broker confirms it.
// The benchmark declares and binds its queues first, so that nothing published here is lost.
import { connect } from 'amqplib';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { topology } from '@app/messaging/topology';

export interface PreloadMessage {
  exchange: string;
  routingKey: string;
  body: object;
  contentType?: string;
}

export interface PreloadOptions {
  /** Await the broker's confirms after every N messages (bounds memory and in-flight loss). */
  confirmEvery?: number;
}

const TAP_EVENTS = topology().tapEvents.name;

/** Publishes every message (persistent) and returns the milliseconds from first publish to last confirm. */
export async function preload(
  amqpUrl: string,
  messages: readonly PreloadMessage[],
  { confirmEvery = 1000 }: PreloadOptions = {},
): Promise<number> {
  if (!Number.isInteger(confirmEvery) || confirmEvery < 1)
    throw new RangeError('confirmEvery must be a positive integer');
  const conn = await connect(amqpUrl);
  // Failures surface as rejected publishes/confirms below; without a listener they would crash.
  conn.on('error', () => undefined);
  try {
    const ch = await conn.createConfirmChannel();
    ch.on('error', () => undefined);
    // Publishing to a missing exchange closes the channel mid-run; fail up front with its name.
    for (const name of new Set(messages.map((m) => m.exchange))) await ch.checkExchange(name);
    const start = performance.now();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const contentType =
        m.contentType ?? (m.exchange === TAP_EVENTS ? 'text/json' : 'application/json');
      const content = Buffer.from(JSON.stringify(m.body));
      if (!ch.publish(m.exchange, m.routingKey, content, { persistent: true, contentType })) {
        await once(ch, 'drain');
      }
      if ((i + 1) % confirmEvery === 0) await ch.waitForConfirms();
    }
    // Rejects if the broker nacked anything.
    await ch.waitForConfirms();
    const elapsedMs = performance.now() - start;
    await ch.close();
    return elapsedMs;
  } finally {
    await conn.close().catch(() => undefined);
  }
}
