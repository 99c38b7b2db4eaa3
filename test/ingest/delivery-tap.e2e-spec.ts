// The fault run's redelivery count is read off the wire by test/support/amqp-delivery-tap.ts.
// This checks that count against the real broker: a consumer behind the tapping proxy nacks one
// message back to the queue once; the tap must see 4 deliveries of 3 messages, one of them
// delivered twice and flagged `redelivered` the second time — including a body larger than
// RabbitMQ's frame size (split over several body frames).
import * as amqp from 'amqplib';
import { AmqpDeliveryTap, bodyKey } from '../support/amqp-delivery-tap';
import { closeAtEnd } from '../support/cleanup';
import { eventually } from '../support/poll';
import { TcpProxy } from '../support/tcp-proxy';
import { TEST_AMQP_URL, TEST_QUEUE_PREFIX } from '../support/test-env';

describe('the AMQP delivery tap', () => {
  const tap = new AmqpDeliveryTap();
  const proxy = TcpProxy.inFrontOf(TEST_AMQP_URL, () => tap.connection());
  let conn: amqp.ChannelModel | undefined;

  afterAll(async () => {
    await conn?.close().catch(() => undefined);
    await proxy.down();
  });

  it('counts deliveries, messages delivered more than once and the redelivered flag', async () => {
    await proxy.up();
    conn = closeAtEnd(
      'tapped amqp connection',
      await amqp.connect(proxy.reach(TEST_AMQP_URL)),
      'close',
    );
    const ch = await conn.createChannel();
    const queue = `${TEST_QUEUE_PREFIX}.delivery-tap-check`;
    await ch.assertQueue(queue, { exclusive: true });
    const bodies = [
      Buffer.from('{"Msg-ID":"a"}'),
      Buffer.from('{"Msg-ID":"b"}'),
      Buffer.alloc(300_000, 'x'), // > frame_max (128 KiB): several body frames
    ];
    const published = new Map(bodies.map((b) => [bodyKey(b), 1]));
    const seen: { body: string; redelivered: boolean }[] = [];
    await ch.consume(queue, (m) => {
      if (!m) return;
      const body = m.content.length > 100 ? 'big' : m.content.toString();
      seen.push({ body, redelivered: m.fields.redelivered });
      if (body.includes('"b"') && !m.fields.redelivered) ch.nack(m, false, true);
      else ch.ack(m);
    });
    for (const b of bodies) ch.sendToQueue(queue, b);
    await eventually(
      () => Promise.resolve(seen.length),
      (n) => n >= 4,
      { what: 'four deliveries' },
    );

    expect(seen.filter((s) => s.redelivered)).toEqual([
      { body: '{"Msg-ID":"b"}', redelivered: true },
    ]);
    expect({
      deliveries: tap.deliveries,
      flagged: tap.flagged,
      redelivered: tap.deliveredMoreThanOnce(published),
      distinct: tap.byBody.size,
    }).toEqual({ deliveries: 4, flagged: 1, redelivered: 1, distinct: 3 });
  });
});
