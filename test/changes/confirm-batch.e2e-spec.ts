// The relay's pass publishes on one channel (ConfirmBatch): when that channel closes, the rest of
// the pass fails and its confirms reject, rather than the next changes overtaking, on a new
// channel, those lost with the old one; the next pass gets a channel of its own.
import * as amqp from 'amqplib';
import { ConfirmPublisher, topology } from '@app/messaging';
import { connectTestBroker } from '../support/amqp';
import { eventually } from '../support/poll';
import { TEST_AMQP_URL } from '../support/test-env';

let conn: amqp.ChannelModel;
let publisher: ConfirmPublisher;
beforeAll(async () => {
  conn = await connectTestBroker();
  publisher = new ConfirmPublisher(TEST_AMQP_URL, [topology().changes], { warn: () => undefined });
});
afterAll(async () => {
  await publisher.close();
  await conn.close();
});

it('after its channel closes, a batch publishes nothing more and its confirms reject; the next batch goes through', async () => {
  const ch = await conn.createChannel();
  await ch.assertExchange('registrations.changes', 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, 'registrations.changes', 'batch.#');
  const got: string[] = [];
  await ch.consume(queue, (m) => m && got.push(m.content.toString()), { noAck: true });

  const batch = await publisher.onOneChannel();
  batch.publish('registrations.changes', 'batch.1', Buffer.from('1'));
  // The broker closes the channel for a publish to an exchange that does not exist (404).
  batch.publish('no-such-exchange', 'batch.2', Buffer.from('2'));
  await expect(batch.confirmed()).rejects.toThrow();
  expect(() => batch.publish('registrations.changes', 'batch.3', Buffer.from('3'))).toThrow();

  const next = await publisher.onOneChannel();
  next.publish('registrations.changes', 'batch.4', Buffer.from('4'));
  await next.confirmed();
  await eventually(
    async () => got.length,
    (n) => n >= 2,
    { timeoutMs: 10_000, what: 'the first and the next batch on the exchange' },
  );
  expect(got).toEqual(['1', '4']);
});
