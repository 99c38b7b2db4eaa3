// A peer on Kazoo's bus: answers reg_query as ecallmgr does (2600hz/kazoo 4.3,
// applications/ecallmgr/src/ecallmgr_registrar.erl handle_reg_query/2 → resp_to_query/2), from
// Postgres. A query names Realm (+ Username), optional Fields and Count-Only; the answer goes to
// the asker's Server-ID through exchange `targeted` (kz_amqp_util:targeted_publish/3): a
// reg_query_resp with Fields (or Count), or reg_query_error when nothing matched.
// On when KAZOO_REG_QUERY=true; reconnects by itself while the app runs.
import * as os from 'node:os';
import {
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  OnApplicationShutdown,
} from '@nestjs/common';
import * as amqp from 'amqplib';
import { APP_CONFIG, AppConfig } from '@app/config';
import { ensureExchange, TARGETED_EXCHANGE, topology } from '@app/messaging';
import { RegistrationQueries, RegQuerySelector } from '@app/persistence';
import { filterFields, RegQuery, regQueryFieldsOf, regQuerySchema } from './reg-query-message';

const PREFETCH = 64;
const APP = { 'App-Name': 'registrations-service', 'App-Version': '0.1.0' };

@Injectable()
export class RegQueryResponder implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RegQueryResponder.name);
  private readonly startedAt = Date.now();
  private readonly node = `registrations@${os.hostname()}`;
  private conn?: amqp.ChannelModel;
  private ch?: amqp.Channel;
  private stopped = false;
  private connecting?: Promise<void>;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly queries: RegistrationQueries,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.KAZOO_REG_QUERY) this.connectSoon();
  }

  /** Resolves once consuming (tests wait for it); never rejects. */
  ready(): Promise<void> {
    return this.connecting ?? Promise.resolve();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    await this.connecting;
    await Promise.allSettled([...this.inflight]);
    await this.conn?.close().catch(() => undefined);
  }

  private connectSoon(): void {
    if (this.stopped || this.connecting) return;
    this.connecting = this.connectLoop().finally(() => (this.connecting = undefined));
  }

  private async connectLoop(): Promise<void> {
    for (let delay = 500; !this.stopped; delay = Math.min(delay * 2, 10_000)) {
      try {
        await this.connect();
        return;
      } catch (e) {
        this.logger.warn(`reg_query: cannot consume yet (${(e as Error).message}); retrying`);
        await this.conn?.close().catch(() => undefined);
        this.conn = undefined;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private async connect(): Promise<void> {
    const t = topology({
      kazooExchangeDurable: this.config.KAZOO_EXCHANGE_DURABLE,
      queuePrefix: this.config.QUEUE_PREFIX,
    });
    // noDelay: an answer is one small frame; with Nagle it waits for the asker's delayed ACK
    // (~40 ms per query, measured by bench/kazoo/bench-reg-query.ts).
    const conn = await amqp.connect(this.config.AMQP_URL, {
      noDelay: true,
      clientProperties: { connection_name: 'registrations-api reg_query' },
    });
    this.conn = conn;
    conn.on('error', (e: Error) => this.logger.warn(`reg_query connection: ${e.message}`));
    conn.on('close', () => {
      this.ch = undefined;
      if (!this.stopped && this.conn === conn) {
        this.conn = undefined;
        this.connectSoon();
      }
    });
    // Exchanges as they exist (Kamailio's kazoo module and Kazoo declare them first); declared
    // only where missing, so a durability mismatch is never a 406.
    await ensureExchange(conn, t.registrar.name, 'topic', t.registrar.durable);
    await ensureExchange(conn, TARGETED_EXCHANGE, 'direct', t.registrar.durable);
    const ch = await conn.createChannel();
    ch.on('error', (e: Error) => this.logger.warn(`reg_query channel: ${e.message}`));
    const q = t.regQueryQueue;
    await ch.assertQueue(q.name, { durable: false, arguments: q.arguments });
    for (const key of q.bindingKeys) await ch.bindQueue(q.name, q.exchange.name, key);
    await ch.prefetch(PREFETCH);
    await ch.consume(q.name, (m) => {
      if (!m) return;
      const job = this.handle(ch, m).finally(() => this.inflight.delete(job));
      this.inflight.add(job);
    });
    this.ch = ch;
    this.logger.log(`reg_query: answering from queue ${q.name}`);
  }

  private async handle(ch: amqp.Channel, m: amqp.ConsumeMessage): Promise<void> {
    try {
      let body: unknown;
      try {
        body = JSON.parse(m.content.toString('utf8'));
      } catch {
        body = undefined;
      }
      const parsed = regQuerySchema.safeParse(body);
      if (!parsed.success) {
        // ecallmgr crashes on a query kapi_registration:query_req_v/1 refuses: no answer.
        this.logger.debug(`reg_query ignored: ${parsed.error.issues[0]?.message ?? 'not JSON'}`);
        return;
      }
      const answer = await this.answer(parsed.data);
      ch.publish(TARGETED_EXCHANGE, parsed.data['Server-ID'], Buffer.from(JSON.stringify(answer)), {
        contentType: 'application/json',
      });
    } catch (e) {
      this.logger.warn(`reg_query not answered: ${(e as Error).message}`);
    } finally {
      try {
        ch.ack(m);
      } catch {
        // the channel closed meanwhile: the broker redelivers to the next consumer
      }
    }
  }

  /** ecallmgr_registrar:resp_to_query/2. */
  async answer(q: RegQuery): Promise<Record<string, unknown>> {
    const realm = q.Realm.toLowerCase();
    const selector: RegQuerySelector =
      realm === 'all' ? {} : { realmKey: realm, usernameKey: q.Username?.toLowerCase() };
    const base = {
      'Msg-ID': q['Msg-ID'],
      'Registrar-Age': Math.floor((Date.now() - this.startedAt) / 1000),
      ...APP,
      Node: this.node,
      'Server-ID': '',
      'Event-Category': 'directory',
    };
    if (q['Count-Only']) {
      const count = await this.queries.regQueryCount(selector);
      return { ...base, 'Event-Name': 'reg_query_resp', Fields: [], Count: count };
    }
    const rows = await this.queries.regQuery(selector);
    if (rows.length === 0) return { ...base, 'Event-Name': 'reg_query_error' };
    return {
      ...base,
      'Event-Name': 'reg_query_resp',
      Fields: rows.map((r) =>
        filterFields(
          regQueryFieldsOf(r, { expiresDeviationS: this.config.KAZOO_EXPIRES_DEVIATION_S }),
          q.Fields,
        ),
      ),
    };
  }
}
