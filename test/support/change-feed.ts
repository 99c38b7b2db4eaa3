// A subscriber of the change feed's exchange, as a consumer binds one: its own queue on
// registrations.changes, every message kept with its routing key.
import type * as amqp from 'amqplib';

export interface ChangeMsg {
  seq: number;
  change: string;
  occurred_at: string;
  account_id: string | null;
  registration: Record<string, unknown>;
}

/** A subscriber's own queue bound to registrations.changes with `binding`. */
export async function subscribe(
  conn: amqp.ChannelModel,
  binding = '#',
): Promise<{ key: string; msg: ChangeMsg }[]> {
  const ch = await conn.createChannel();
  await ch.assertExchange('registrations.changes', 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, 'registrations.changes', binding);
  const got: { key: string; msg: ChangeMsg }[] = [];
  await ch.consume(
    queue,
    (m) => m && got.push({ key: m.fields.routingKey, msg: JSON.parse(m.content.toString()) }),
    { noAck: true },
  );
  return got;
}
