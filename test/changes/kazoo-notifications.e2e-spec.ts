// KAZOO_NOTIFICATIONS=true: beside each change event the relay publishes Kazoo's
// notification/register or notification/deregister to exchange `notifications`, for existing
// Kazoo consumers, with the binding's call, contact, agent, expiry and the change's time.
import * as amqp from 'amqplib';
import { ITEM_JSON } from '@app/persistence';
import { connectTestBroker } from '../support/amqp';
import { eventually } from '../support/poll';
import { startIngest, Harness } from '../support/ingest-harness';
import { accountIdOf, kazoo, nowS } from '../support/messages';

let h: Harness;
let conn: amqp.ChannelModel;
beforeAll(async () => {
  h = await startIngest({ KAZOO_NOTIFICATIONS: 'true' });
  conn = await connectTestBroker();
});
afterAll(async () => {
  await conn.close();
  await h.stop();
});

it('a registration and its end are notified as Kazoo register and deregister, with the binding and the change time', async () => {
  const ch = await conn.createChannel();
  // The app declared it at start (non-durable, as Kazoo's); a queue of ours takes a copy.
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, 'notifications', 'notifications.sip.*');
  const got: { key: string; body: Record<string, unknown> }[] = [];
  await ch.consume(
    queue,
    (m) =>
      m &&
      got.push({
        key: m.fields.routingKey,
        body: JSON.parse(m.content.toString()) as Record<string, unknown>,
      }),
    { noAck: true },
  );
  const realm = 'notify.example.net';
  const ts = nowS();
  const contact = '<sip:n@10.0.0.7:5060>';
  await h.broker.publish([
    kazoo({ realm, username: 'n', contact, callId: 'cn', ts, userAgent: 'Phone/1.0' }),
  ]);
  await eventually(
    async () => got.length,
    (n) => n >= 1,
    { timeoutMs: 20_000, what: 'the register notification' },
  );
  await h.broker.publish([
    kazoo({ realm, username: 'n', contact, callId: 'cn', ts: ts + 1, expires: 0, first: false }),
  ]);
  await eventually(
    async () => got.length,
    (n) => n >= 2,
    { timeoutMs: 20_000, what: 'the deregister notification' },
  );
  const { rows } = await h.pool.query<{ seconds: string; contact: string }>(
    `SELECT floor(extract(epoch FROM occurred_at))::text AS seconds, ${ITEM_JSON}->>'contact' AS contact
       FROM registration_changes WHERE realm = $1 ORDER BY seq`,
    [realm],
  );
  expect(got.map((g) => g.key)).toEqual([
    'notifications.sip.register',
    'notifications.sip.deregister',
  ]);
  for (const [i, name] of ['register', 'deregister'].entries()) {
    expect(got[i].body).toMatchObject({
      'Event-Category': 'notification',
      'Event-Name': name,
      'App-Name': 'registrations-service',
      'Account-ID': accountIdOf(realm),
      Username: 'n',
      Realm: realm,
      'Call-ID': 'cn',
      Contact: rows[i].contact,
      'Event-Timestamp': Number(rows[i].seconds),
    });
    expect(typeof got[i].body['Msg-ID']).toBe('string');
  }
  expect(got[0].body['User-Agent']).toBe('Phone/1.0');
  expect(got[0].body.Expires).toBe(600);
});
