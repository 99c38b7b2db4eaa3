// Declares exchanges, queues and bindings. A declaration that disagrees with what the broker
// already has (406 PRECONDITION_FAILED, e.g. Kamailio declared `registrar` non-durable) closes
// the channel: we say so clearly and carry on with what exists.
import type { Channel, ChannelModel } from 'amqplib';
import type { ExchangeSpec, QueueSpec } from './topology';

type Log = { warn(m: string): void };

function isPreconditionFailed(e: unknown): boolean {
  return (
    (e as { code?: number }).code === 406 ||
    /PRECONDITION_FAILED/.test(String((e as Error).message))
  );
}

export async function declareExchange(
  conn: ChannelModel,
  ex: ExchangeSpec,
  log: Log,
): Promise<void> {
  const ch = await conn.createChannel();
  ch.on('error', () => undefined); // the 406 is handled below; amqplib also emits it here
  try {
    await ch.assertExchange(ex.name, ex.type, { durable: ex.durable });
    await ch.close();
  } catch (e) {
    if (!isPreconditionFailed(e)) throw e;
    log.warn(
      `exchange ${ex.name} already exists with other settings than ${ex.type}, durable=${ex.durable} ` +
        `(406 PRECONDITION_FAILED); using it as it is. For Kazoo's registrar set KAZOO_EXCHANGE_DURABLE ` +
        `to match whoever declared it (Kamailio's kazoo module declares it non-durable).`,
    );
    const check = await conn.createChannel();
    await check.checkExchange(ex.name);
    await check.close();
  }
}

export async function declareQueue(
  conn: ChannelModel,
  ch: Channel,
  q: QueueSpec,
  log: Log,
): Promise<Channel> {
  try {
    // The 406 comes back here as a rejected promise (and as the channel's 'error' event, which
    // the caller listens to).
    await ch.assertQueue(q.name, { durable: true, arguments: q.arguments });
  } catch (e) {
    if (!isPreconditionFailed(e)) throw e;
    log.warn(
      `queue ${q.name} already exists with other arguments (406 PRECONDITION_FAILED); using it as it is`,
    );
    // The refused declaration closed `ch`: go on with a fresh channel.
    ch = await conn.createChannel();
    ch.on('error', (err: Error) => log.warn(`RabbitMQ channel (${q.name}) error: ${err.message}`));
    await ch.checkQueue(q.name);
  }
  for (const key of q.bindingKeys) await ch.bindQueue(q.name, q.exchange.name, key);
  return ch;
}

/**
 * An exchange as it exists (Kamailio's kazoo module and Kazoo declare theirs first), declared
 * only where missing, so that a durability mismatch is never a 406.
 */
export async function ensureExchange(
  conn: ChannelModel,
  name: string,
  type: 'topic' | 'direct',
  durable: boolean,
): Promise<void> {
  const probe = await conn.createChannel();
  probe.on('error', () => undefined); // a 404 closes the probe channel: expected
  try {
    await probe.checkExchange(name);
    await probe.close();
  } catch {
    const ch = await conn.createChannel();
    await ch.assertExchange(name, type, { durable });
    await ch.close();
  }
}
