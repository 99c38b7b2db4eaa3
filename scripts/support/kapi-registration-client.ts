// A Kazoo app asking where users are registered, as kapi_registration does it (2600hz/kazoo 4.3,
// core/kazoo_amqp/src/api/kapi_registration.erl): a reg_query published to exchange `registrar`
// with routing key registration.query.<realm>.<user|*> (get_query_routing/2), carrying the
// asker's queue as Server-ID; answers come back on that queue through exchange `targeted`
// (kz_amqp_util:targeted_publish/3, bind_q_to_targeted/1). Used by the e2e test and the bench.
import { randomUUID } from 'node:crypto';
import * as amqp from 'amqplib';
import { keys } from '@app/messaging';

export interface RegQueryRequest {
  Realm: string;
  Username?: string;
  Fields?: string[];
  'Count-Only'?: boolean;
  /** Anything else to put in the message (e.g. a malformed field). */
  extra?: Record<string, unknown>;
}

export type RegQueryAnswer = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export class KapiRegistrationClient {
  private readonly waiting = new Map<string, (a: RegQueryAnswer) => void>();
  /** Answers that matched no pending query (e.g. to a query already given up on). */
  readonly unexpected: RegQueryAnswer[] = [];

  private constructor(
    private readonly conn: amqp.ChannelModel,
    private readonly ch: amqp.Channel,
    readonly serverId: string,
  ) {}

  static async open(url: string): Promise<KapiRegistrationClient> {
    const conn = await amqp.connect(url, { noDelay: true });
    // Exchanges as they exist (declared by Kamailio / Kazoo); created only where missing.
    const ensure = async (name: string, type: 'topic' | 'direct') => {
      const probe = await conn.createChannel();
      probe.on('error', () => undefined); // a 404 closes the probe channel
      try {
        await probe.checkExchange(name);
        await probe.close();
      } catch {
        const c = await conn.createChannel();
        await c.assertExchange(name, type, { durable: false });
        await c.close();
      }
    };
    await ensure('registrar', 'topic');
    await ensure('targeted', 'direct');
    const ch = await conn.createChannel();
    const { queue } = await ch.assertQueue(`crossbar-test-${randomUUID()}`, {
      exclusive: true,
      autoDelete: true,
    });
    await ch.bindQueue(queue, 'targeted', queue);
    const client = new KapiRegistrationClient(conn, ch, queue);
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        const answer = JSON.parse(m.content.toString('utf8')) as RegQueryAnswer;
        const resolve = client.waiting.get(String(answer['Msg-ID']));
        if (resolve) resolve(answer);
        else client.unexpected.push(answer);
      },
      { noAck: true },
    );
    return client;
  }

  /** Publishes a reg_query and resolves with its answer (rejects after timeoutMs). */
  query(req: RegQueryRequest, timeoutMs = 10_000): Promise<RegQueryAnswer> {
    const msgId = randomUUID();
    const body: Record<string, unknown> = {
      'Event-Category': 'directory',
      'Event-Name': 'reg_query',
      'App-Name': 'crossbar',
      'App-Version': '4.3.0',
      Node: 'crossbar@kz-test',
      'Msg-ID': msgId,
      'Server-ID': this.serverId,
      Realm: req.Realm,
      ...(req.Username !== undefined && { Username: req.Username }),
      ...(req.Fields !== undefined && { Fields: req.Fields }),
      ...(req['Count-Only'] !== undefined && { 'Count-Only': req['Count-Only'] }),
      ...req.extra,
    };
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(msgId);
        reject(new Error(`no answer to reg_query ${msgId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(msgId, (a) => {
        clearTimeout(timer);
        this.waiting.delete(msgId);
        resolve(a);
      });
      this.ch.publish(
        'registrar',
        keys.regQuery(req.Realm, req.Username),
        Buffer.from(JSON.stringify(body)),
        { contentType: 'application/json' },
      );
    });
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => undefined);
  }
}
