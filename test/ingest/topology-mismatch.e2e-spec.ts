// What the broker already has may disagree with what the ingest declares: a queue created
// earlier with other arguments (another version, an operator by hand), or Kazoo's `registrar`
// declared with another durability. RabbitMQ answers 406 PRECONDITION_FAILED and closes the
// channel; the ingest must say so, use what exists, and consume, on one connection (a 406 once
// turned into a reconnect storm of thousands of connections a minute that exhausted the broker).
import * as amqp from 'amqplib';
import { topology } from '@app/messaging';
import { startIngest, Harness } from '../support/ingest-harness';
import { kazoo, nowS } from '../support/messages';
import { eventually } from '../support/poll';
import { liveBindings } from '../support/database';
import { TEST_AMQP_URL, TEST_QUEUE_PREFIX } from '../support/test-env';

const PREFIX = `${TEST_QUEUE_PREFIX}-mismatch`;
const Q = topology({ kazooExchangeDurable: false, queuePrefix: PREFIX });

async function withChannel<T>(fn: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(TEST_AMQP_URL);
  try {
    const ch = await conn.createChannel();
    return await fn(ch);
  } finally {
    await conn.close();
  }
}

const consumersOf = (queue: string) =>
  withChannel(async (ch) => (await ch.checkQueue(queue)).consumerCount);

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

beforeEach(async () => {
  await withChannel(async (ch) => {
    for (const q of [Q.kazooQueue.name, Q.freeswitchQueue.name, Q.deadLetterQueue.name])
      await ch.deleteQueue(q);
  });
});

it('a queue that exists with other arguments: used as it is, consumed once, events committed', async () => {
  // An older declaration without the dead-letter exchange and single-active-consumer arguments.
  await withChannel((ch) => ch.assertQueue(Q.kazooQueue.name, { durable: true }));
  h = await startIngest({ QUEUE_PREFIX: PREFIX });
  const realm = 'mismatch.topology.test';
  await h.broker.publish([kazoo({ realm, username: '1001', ts: nowS() })]);
  await eventually(
    () => liveBindings(h!.pool, realm),
    (rows) => rows.length === 1,
    { what: 'the event committed through the queue declared earlier' },
  );
  // Exactly one consumer on each queue: one connection, no storm of retries beside it.
  expect(await consumersOf(Q.kazooQueue.name)).toBe(1);
  expect(await consumersOf(Q.freeswitchQueue.name)).toBe(1);
  const before = await consumersOf(Q.kazooQueue.name);
  await new Promise((r) => setTimeout(r, 1500)); // a storm would have churned by now
  expect(await consumersOf(Q.kazooQueue.name)).toBe(before);
  expect(h.ingest.transport.isConnected).toBe(true);
});

it('registrar declared with the other durability (KAZOO_EXCHANGE_DURABLE=true against a non-durable one): logged, used, consumed', async () => {
  h = await startIngest({ QUEUE_PREFIX: PREFIX, KAZOO_EXCHANGE_DURABLE: 'true' });
  const realm = 'durable.topology.test';
  await h.broker.publish([kazoo({ realm, username: '2001', ts: nowS() })]);
  await eventually(
    () => liveBindings(h!.pool, realm),
    (rows) => rows.length === 1,
    { what: 'the event committed through the existing non-durable registrar' },
  );
  expect(await consumersOf(Q.kazooQueue.name)).toBe(1);
});

it('the dead-letter exchange deleted under a running ingest: it reconnects, declares it again, and the poison still reaches the dead-letter queue', async () => {
  h = await startIngest({ QUEUE_PREFIX: PREFIX });
  await withChannel((ch) => ch.deleteExchange(Q.deadLetter.name));
  const realm = 'dlx.topology.test';
  await h.broker.publish([
    {
      exchange: 'registrar',
      routingKey: 'registration.success.dlx%2Etopology%2Etest.1',
      body: 'not json {',
    },
    kazoo({ realm, username: '3001', ts: nowS() }),
  ]);
  await eventually(
    () => liveBindings(h!.pool, realm),
    (rows) => rows.length === 1,
    { what: 'the good message behind the poison committed' },
  );
  await eventually(
    () => withChannel(async (ch) => (await ch.checkQueue(Q.deadLetterQueue.name)).messageCount),
    (n) => n === 1,
    { what: 'the poison in the dead-letter queue' },
  );
  await eventually(
    () => consumersOf(Q.kazooQueue.name),
    (n) => n === 1,
    { what: 'consuming again' },
  );
});
