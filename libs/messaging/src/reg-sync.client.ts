// Asks every Kamailio to republish what it holds, as ecallmgr does after a restart
// (2600hz/kazoo ecallmgr_registrar.erl init/1 → kapi_registration:publish_sync/1: directory
// reg_sync on exchange `registrar`, key `registration.sync`). kazoo-configs-kamailio's
// registrar-sync-role.cfg answers with one reg_success per live contact (Status "Success",
// Expires = seconds left) to the asker's Server-ID on exchange `targeted`. The answers are read
// as any reg_success (parseKazooMessage) and collected until the proxies are done: each
// proxy's `reg_sync_complete` with Count (our Kamailio config's extension) when it sends one,
// else quiet for settleMs. docs/reconciliation.md.
import { randomUUID } from 'node:crypto';
import * as os from 'node:os';
import * as amqp from 'amqplib';
import { parseKazooMessage, ProxySnapshot, RegistrationEvent } from '@app/registrations';
import { ensureExchange } from './amqp-topology';
import { TARGETED_EXCHANGE } from './topology';

export const REG_SYNC_KEY = 'registration.sync';

export interface RegSyncOptions {
  amqpUrl: string;
  queuePrefix: string;
  /** How `registrar` and `targeted` are declared when missing (KAZOO_EXCHANGE_DURABLE). */
  durable: boolean;
  /** Quiet time after the last answer before a proxy without reg_sync_complete counts as done. */
  settleMs: number;
  /**
   * How long to wait for a first answer, and for every expected proxy's (a proxy lists its
   * whole location table before its first answer: over a second for 10,000 contacts).
   */
  firstAnswerMs: number;
  /** Collecting never lasts longer than this. */
  timeoutMs: number;
  /** Proxies (nodes) expected to answer: once all said reg_sync_complete, no quiet wait. */
  expectedNodes?: readonly string[];
}

interface NodeAnswers {
  held: number;
  /** Count of its reg_sync_complete, once received. */
  count?: number;
  /** One of its answers was not a valid reg_success: it cannot count as complete. */
  bad: boolean;
}

export async function requestProxySnapshot(opts: RegSyncOptions): Promise<ProxySnapshot> {
  const conn = await amqp.connect(opts.amqpUrl, {
    noDelay: true,
    clientProperties: { connection_name: 'registrations reg_sync' },
  });
  conn.on('error', () => undefined); // the awaited calls below report failures
  try {
    await ensureExchange(conn, 'registrar', 'topic', opts.durable);
    await ensureExchange(conn, TARGETED_EXCHANGE, 'direct', opts.durable);
    const ch = await conn.createChannel();
    const queue = `${opts.queuePrefix}.reg-sync.${os.hostname()}.${randomUUID()}`;
    await ch.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
    await ch.bindQueue(queue, TARGETED_EXCHANGE, queue);

    const held: RegistrationEvent[] = [];
    const rejected: string[] = [];
    const nodes = new Map<string, NodeAnswers>();
    const nodeOf = (name: string): NodeAnswers => {
      let n = nodes.get(name);
      if (!n) nodes.set(name, (n = { held: 0, bad: false }));
      return n;
    };
    let lastAt = Date.now();
    let firstAt: number | undefined;
    await ch.consume(
      queue,
      (m) => {
        if (!m) return;
        lastAt = Date.now();
        firstAt ??= lastAt;
        let body: Record<string, unknown> | undefined;
        try {
          body = JSON.parse(m.content.toString('utf8')) as Record<string, unknown>;
        } catch {
          body = undefined;
        }
        const node = typeof body?.Node === 'string' ? body.Node : '';
        if (body?.['Event-Name'] === 'reg_sync_complete') {
          nodeOf(node).count = Number(body.Count);
          return;
        }
        const r = parseKazooMessage(m.content);
        const a = nodeOf(node);
        a.held++;
        if (!r.ok || r.event.kind === 'flush') {
          a.bad = true;
          rejected.push(r.ok ? 'a reg_flush among the answers' : r.error.message);
          return;
        }
        // Expires 0 (a contact in its last second) reads as an unregister: it holds nothing.
        if (r.event.kind === 'register' || r.event.kind === 'refresh') held.push(r.event);
      },
      { noAck: true },
    );

    // Taken before publishing: an event of the ingest at or after it is newer than any answer.
    const startedUs = Date.now() * 1000;
    const publishedAt = Date.now();
    lastAt = Date.now();
    ch.publish(
      'registrar',
      REG_SYNC_KEY,
      Buffer.from(
        JSON.stringify({
          'Event-Category': 'directory',
          'Event-Name': 'reg_sync',
          'Server-ID': queue,
          'Msg-ID': randomUUID(),
          'App-Name': 'registrations-service',
          'App-Version': '0.1.0',
          Node: `registrations@${os.hostname()}`,
        }),
      ),
      { contentType: 'application/json' },
    );

    const done = (n: NodeAnswers) => !n.bad && n.count !== undefined && n.held >= n.count;
    const allDone = () =>
      nodes.size > 0 &&
      [...nodes.values()].every(done) &&
      (opts.expectedNodes ?? []).every((e) => nodes.has(e));
    const deadline = Date.now() + opts.timeoutMs;
    let wentQuiet = false;
    for (; ; await new Promise((r) => setTimeout(r, 10))) {
      const now = Date.now();
      const quietMs = now - lastAt;
      if (now >= deadline) break;
      if (allDone() && quietMs >= Math.min(50, opts.settleMs)) break;
      const someoneMissing =
        nodes.size === 0 || (opts.expectedNodes ?? []).some((e) => !nodes.has(e));
      if (someoneMissing && now - publishedAt < opts.firstAnswerMs) continue;
      if (nodes.size === 0) break; // nobody answered in time: nothing to wait for
      if ((wentQuiet = quietMs >= opts.settleMs)) break;
    }
    await ch.close().catch(() => undefined);
    const complete = [...nodes.entries()]
      // Without reg_sync_complete (a stock Kazoo Kamailio): having answered and gone quiet.
      .filter(([name, n]) => name !== '' && (n.count === undefined ? wentQuiet && !n.bad : done(n)))
      .map(([name]) => name);
    const answeredMs =
      firstAt === undefined
        ? undefined
        : { first: firstAt - publishedAt, last: lastAt - publishedAt };
    return { startedUs, held, complete, rejected, answeredMs };
  } finally {
    await conn.close().catch(() => undefined);
  }
}
